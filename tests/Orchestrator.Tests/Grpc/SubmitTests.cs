using Google.Rpc;
using Grpc.Core;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>What the server makes of a submitted spec: the defaults it fills in, and what it refuses before any worker sees it.</summary>
public class SubmitTests(SubmitTests.DataRootFixture fixture) : IClassFixture<SubmitTests.DataRootFixture>
{
    public const string DataRoot = "/srv/sd-data";

    public sealed class DataRootFixture : ServerFixture
    {
        protected override IDictionary<string, string?> Overrides => new Dictionary<string, string?> { ["Orchestrator:DataRoots:0"] = DataRoot };
    }

    readonly OrchestratorServer server = fixture.Server;
    Jobs.JobsClient Jobs => new(server.AsSubmitter);

    [Fact]
    public async Task Submit_MaxRestartsUnset_GetsTheSameDefaultAsYaml()
    {
        var spec = Specs.Train(worldSize: 8);
        spec.ClearMaxRestarts();
        var yaml = JobSpecYaml.Parse("""
            type: train
            model: { preset: tiny-ldm }
            dataset: { procedural: { seed: 1, count: 8 } }
            schedule: { steps: 10 }
            """);

        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = spec });

        Assert.Equal(JobSpecDefaults.MaxRestarts, job.Spec.MaxRestarts);
        Assert.Equal(yaml.MaxRestarts, job.Spec.MaxRestarts);
        Assert.Equal(JobSpecDefaults.MaxRestarts, await fixture.Database.ScalarAsync<int>($"SELECT max_restarts FROM jobs WHERE id = '{job.Id}'"));
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
    }

    [Fact]
    public async Task Submit_MaxRestartsExplicitlyZero_StaysZero()
    {
        var spec = Specs.Train(worldSize: 8, maxRestarts: 0);

        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = spec });

        Assert.Equal(0, job.Spec.MaxRestarts);
        Assert.True(job.Spec.HasMaxRestarts);
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
    }

    public static TheoryData<string, string, string> NeverRunnable => new()
    {
        // case name, field, a word of the reason
        { "image size 7", "spec.dataset.image_size", "32×32" },
        { "teacher of 64 px", "spec.teacher.preset", "64×64" },
        { "teacher of other classes", "spec.teacher.preset", "classes" },
        { "teacher /etc/passwd", "spec.teacher.checkpoint", "Orchestrator:DataRoots" },
        { "image folder ../../", "spec.dataset.image_folder.path", "'..'" },
        { "inception weights outside the roots", "spec.evaluation.inception_weights", "outside" },
        { "dataset under a root, then ..", "spec.dataset.image_folder.path", "'..'" },
    };

    [Theory]
    [MemberData(nameof(NeverRunnable))]
    public async Task Submit_SpecThatCanNeverRun_InvalidArgumentNamingFieldAndNothingStored(string broken, string field, string reason)
    {
        var spec = Specs.Train(worldSize: 1);
        spec.Type = JobType.Distill;
        spec.Model.Preset = "tiny-sd";
        spec.Teacher = new ModelSpec { Preset = "tiny-ldm", Checkpoint = DataRoot + "/teacher.safetensors" };
        switch (broken)
        {
            case "image size 7": spec.Dataset.ImageSize = 7; break;
            case "teacher of 64 px": spec.Teacher.Preset = "ldm-ffhq"; break;
            case "teacher of other classes": spec.Teacher.Preset = "tiny-cin-ldm"; break;
            case "teacher /etc/passwd": spec.Teacher.Checkpoint = "/etc/passwd"; break;
            case "image folder ../../": spec.Dataset.ImageFolder = new ImageFolderDataset { Path = "../../" }; break;
            case "inception weights outside the roots": spec.Evaluation = new EvaluationSpec { NumSamples = 4, InceptionWeights = "/srv/sd-database/pt_inception.pth" }; break;
            case "dataset under a root, then ..": spec.Dataset.ImageFolder = new ImageFolderDataset { Path = DataRoot + "/../etc" }; break;
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => Jobs.SubmitAsync(new SubmitJobRequest { Spec = spec }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        var violation = Assert.Single(error.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations);
        Assert.Equal(field, violation.Field);
        Assert.Contains(reason, violation.Description);
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE state <> 'CANCELLED'"));
    }

    [Fact]
    public async Task Submit_PathsInsideTheDataRootOrRelative_Accepted()
    {
        var spec = Specs.Train(worldSize: 8);
        spec.Dataset.ImageFolder = new ImageFolderDataset { Path = "ffhq/train" };
        spec.Evaluation = new EvaluationSpec { NumSamples = 4, InceptionWeights = DataRoot + "/weights/pt_inception.pth" };
        spec.Model.Checkpoint = DataRoot + "/init.safetensors";

        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = spec });

        Assert.Equal(JobState.Queued, job.State);
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
    }
}
