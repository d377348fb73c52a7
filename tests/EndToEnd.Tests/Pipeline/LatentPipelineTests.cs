using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Shared.Contracts.V1;
using Xunit.Abstractions;

namespace SpectralDiffusion.EndToEnd.Tests.Pipeline;

/// <summary>The latent pipeline through the orchestrator and worker processes: a tiny KL first stage, a latent teacher on
/// two ranks, an SD student distilled on the same latents, and an evaluation of decoded samples.</summary>
[Collection(EndToEndCollection.Name)]
public class LatentPipelineTests(ITestOutputHelper output)
{
    static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(6);

    [Fact]
    public async Task LatentTeacherThenStudentThenEvaluation_TinyKl_EvaluatesDecodedImages()
    {
        // Arrange: a first stage under the workers' data root, named by a relative path as a user would.
        await using var cluster = await LocalCluster.StartAsync(output);
        TinySpecs.WriteTinyKl(cluster.Root, scaleFactor: 0.5, seed: 21);
        cluster.StartWorker("worker-a");
        cluster.StartWorker("worker-b");
        static JobSpec Latent(JobSpec spec) => TinySpecs.Latent(spec);

        // Act
        var teacherJob = await cluster.SubmitAsync(Latent(TinySpecs.Train("tiny-ldm", steps: 2, batch: 2, world: 2)));
        await cluster.WaitForAsync(teacherJob, JobTimeout, JobState.Succeeded);
        var studentJob = await cluster.SubmitAsync(Latent(TinySpecs.Distill($"job:{teacherJob}", steps: 2, batch: 2, world: 1)));
        await cluster.WaitForAsync(studentJob, JobTimeout, JobState.Succeeded);
        var evaluation = Latent(TinySpecs.Train("tiny-sd", steps: 1, batch: 2, world: 1));
        evaluation.Type = JobType.Evaluate;
        evaluation.Name = "e2e-latent-evaluate";
        evaluation.Model.Checkpoint = $"job:{studentJob}";
        evaluation.Optimizer = null;
        evaluation.Evaluation = new EvaluationSpec { NumSamples = 2, DdimSteps = 2, NumReal = 4 };
        var evaluationJob = await cluster.SubmitAsync(evaluation);
        await cluster.WaitForAsync(evaluationJob, JobTimeout, JobState.Succeeded);

        // Assert: the spectra compare 64×64 real images with decoded samples (the cut-off scales with the image size:
        // 28 at 256 px is 7 at 64 px; undecoded 32×32 latents would give 3.5, or fail against the real images).
        var evaluations = await cluster.History.ListEvaluationsAsync(new ListEvaluationsRequest { Preset = "tiny-sd" });
        var recorded = Assert.Single(evaluations.Evaluations, e => e.JobId == evaluationJob);
        Assert.Equal(7.0, recorded.Extra["cutoff"]);
        Assert.True(recorded.HighFrequencyError > 0 && double.IsFinite(recorded.HighFrequencyError));
        var runs = await cluster.History.ListRunsAsync(new ListRunsRequest());
        Assert.Contains(runs.Runs, r => r.JobId == studentJob && r.FinalMetrics.ContainsKey("loss_freq") && r.FirstStage == "tiny-kl");
    }
}
