using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Tests.TestSupport;
using Xunit.Abstractions;

namespace SpectralDiffusion.EndToEnd.Tests.Pipeline;

/// <summary>The text-to-image pipeline on the cluster: a tiny text teacher on captioned images, an SD student distilled
/// from it on the same captions, and a guided evaluation that samples with the dataset's captions.</summary>
[Collection(EndToEndCollection.Name)]
public class TextPipelineTests(ITestOutputHelper output)
{
    static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task TextTeacherThenStudentThenGuidedEvaluation_TwoWorkers_RecordsTheStudentsEvaluation()
    {
        await using var cluster = await LocalCluster.StartAsync(output);
        Worker.Torch.TorchRuntime.EnsureLoaded();
        CaptionedFolder.Write(cluster.Root, count: 16, size: 32, tokens: 8, width: 32);   // root/images and root/captions
        cluster.StartWorker("worker-a");
        cluster.StartWorker("worker-b");

        var teacher = Spec("tiny-txt-ldm", JobType.Train);
        teacher.Conditioning = new ConditioningSpec { Dropout = 0.3 };
        var teacherJob = await cluster.SubmitAsync(teacher);
        await cluster.WaitForAsync(teacherJob, JobTimeout, JobState.Succeeded);

        var student = Spec("tiny-txt-sd", JobType.Distill);
        student.Teacher = new ModelSpec { Preset = "tiny-txt-ldm", Checkpoint = $"job:{teacherJob}" };
        student.Distillation = new DistillationSpec();
        var studentJob = await cluster.SubmitAsync(student);
        await cluster.WaitForAsync(studentJob, JobTimeout, JobState.Succeeded);

        var evaluation = Spec("tiny-txt-sd", JobType.Evaluate);
        evaluation.Model.Checkpoint = $"job:{studentJob}";
        evaluation.Optimizer = null;
        evaluation.Evaluation = new EvaluationSpec { NumSamples = 4, DdimSteps = 4, NumReal = 8, GuidanceScale = 2.0 };
        var evaluationJob = await cluster.SubmitAsync(evaluation);
        await cluster.WaitForAsync(evaluationJob, JobTimeout, JobState.Succeeded);

        var evaluations = await cluster.History.ListEvaluationsAsync(new ListEvaluationsRequest { Preset = "tiny-txt-sd" });
        var recorded = Assert.Single(evaluations.Evaluations, e => e.JobId == evaluationJob);
        Assert.Equal(4, recorded.NumSamples);
        Assert.True(double.IsFinite(recorded.HighFrequencyError) && recorded.HighFrequencyError > 0);
    }

    static JobSpec Spec(string preset, JobType type)
    {
        var spec = TinySpecs.Train(preset, steps: 3, batch: 2, world: 2);
        spec.Name = $"e2e-text-{type.ToString().ToLowerInvariant()}";
        spec.Type = type;
        spec.Dataset = new DatasetSpec { ImageFolder = new ImageFolderDataset { Path = "images", CaptionEmbeddings = "captions" }, ImageSize = 32 };
        return spec;
    }
}
