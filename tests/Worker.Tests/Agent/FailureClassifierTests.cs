using Grpc.Core;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Agent;
using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Jobs;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Agent;

/// <summary>Failures are classified from what the engine really throws: permanent ones can never pass on a retry.</summary>
public class FailureClassifierTests : IDisposable
{
    readonly TemporaryFolder folder = new();

    public FailureClassifierTests() => TorchRuntime.EnsureLoaded();

    public void Dispose() => folder.Dispose();

    static Exception Caught(Action action)
    {
        try { action(); }
        catch (Exception e) { return e; }
        throw new InvalidOperationException("expected the action to throw");
    }

    string SaveTinyModel(string name)
    {
        manual_seed(3);
        using var model = new UNetModel(UNetPresets.TinyLiteLdm());
        var path = folder.Combine(name);
        UNetCheckpoint.Save(model, path, "tiny-lite-ldm");
        return path;
    }

    [Fact]
    public void Classify_TruncatedWeightsFile_Permanent()
    {
        var path = SaveTinyModel("truncated.safetensors");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var error = Caught(() => ModelLoader.Load(new ModelSpec { Preset = "tiny-lite-ldm" }, path, 1).Dispose());

        Assert.Equal(FailureKind.Permanent, FailureClassifier.Classify(error));
    }

    [Fact]
    public void Classify_WeightsOfAnotherPreset_Permanent()
    {
        var path = SaveTinyModel("lite.safetensors");

        var error = Caught(() => ModelLoader.Load(new ModelSpec { Preset = "tiny-ldm" }, path, 1).Dispose());

        Assert.Equal(FailureKind.Permanent, FailureClassifier.Classify(error));
    }

    [Fact]
    public void Classify_TeacherTheStudentCannotAlignTo_Permanent()
    {
        manual_seed(1);
        using var teacher = new UNetModel(UNetPresets.TinyLdm());
        using var student = new UNetModel(UNetPresets.TinyCinSd());

        var error = Caught(() => new DistillationObjective(teacher, student, new SpectralDistillationLoss(new DistillationWeights()), NoiseSchedule.LdmLinear()).Dispose());

        Assert.Equal(FailureKind.Permanent, FailureClassifier.Classify(error));
    }

    [Fact]
    public void Classify_DatasetImageSizeTheModelCannotTake_Permanent()
    {
        var spec = new DatasetSpec { Procedural = new ProceduralDataset { Seed = 1, Count = 4 }, ImageSize = 7 };

        var error = Caught(() => DatasetFactory.Create(spec, imageSize: 32, classes: 0));

        Assert.Equal(FailureKind.Permanent, FailureClassifier.Classify(error));
    }

    [Fact]
    public void Classify_UnreadableResumeCheckpoint_Permanent()
    {
        var shard = folder.Combine("shard-0.safetensors");
        File.WriteAllBytes(shard, "not a checkpoint at all"u8.ToArray());

        var error = Caught(() => TrainingState.ReadShards([shard]));

        Assert.Equal(FailureKind.Permanent, FailureClassifier.Classify(error));
    }

    [Fact]
    public void Classify_MissingWeightsPath_Permanent()
    {
        var error = new FileNotFoundException("teacher.checkpoint: /data/teacher.safetensors does not exist on worker w", "/data/teacher.safetensors");

        Assert.Equal(FailureKind.Permanent, FailureClassifier.Classify(error));
    }

    public static TheoryData<Exception> TransientFailures => new()
    {
        TrainingDivergedException.Loss(12, "loss", double.NaN),
        TrainingDivergedException.Gradient(1, double.NaN, "input_blocks.0.0.weight"),
        new CollectiveException("rank 1 closed the ring"),
        new RpcException(new Status(StatusCode.Unavailable, "connection refused")),
        new IOException("connection reset by peer"),
        new TimeoutException("rendezvous get timed out"),
        new InvalidOperationException("something nobody classified"),
    };

    [Theory]
    [MemberData(nameof(TransientFailures))]
    public void Classify_LostPeersNetworkAndDivergence_Transient(Exception error)
    {
        Assert.Equal(FailureKind.Transient, FailureClassifier.Classify(error));
    }

    [Fact]
    public void Classify_PermanentCauseInsideAWrapper_Permanent()
    {
        var inner = new CheckpointFormatException("/data/x.safetensors", "truncated");

        Assert.Equal(FailureKind.Permanent, FailureClassifier.Classify(new AggregateException(inner)));
        Assert.Equal(FailureKind.Permanent, FailureClassifier.Classify(new Exception("loading the teacher failed", inner)));
    }

    [Fact]
    public void Classify_TransientWrapperAroundAnArgumentError_Transient()
    {
        var error = new RpcException(new Status(StatusCode.Unavailable, "down"), new Metadata(), "down");

        Assert.Equal(FailureKind.Transient, FailureClassifier.Classify(new IOException("upload failed", new ArgumentException("x"))));
        Assert.Equal(FailureKind.Transient, FailureClassifier.Classify(error));
    }
}
