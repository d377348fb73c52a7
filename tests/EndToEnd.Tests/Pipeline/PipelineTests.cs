using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Shared.Contracts.V1;
using Xunit.Abstractions;

namespace SpectralDiffusion.EndToEnd.Tests.Pipeline;

/// <summary>A smaller version of README command 1: teacher, then an SD student from the teacher's artifact, then an evaluation.</summary>
[Collection(EndToEndCollection.Name)]
public class PipelineTests(ITestOutputHelper output)
{
    static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task TeacherThenStudentThenEvaluation_TwoWorkers_RecordsModelsAndEvaluation()
    {
        await using var cluster = await LocalCluster.StartAsync(output);
        cluster.StartWorker("worker-a");
        cluster.StartWorker("worker-b");

        var teacherJob = await cluster.SubmitAsync(TinySpecs.Train("tiny-ldm", steps: 6, batch: 4, world: 2));
        var teacher = await cluster.WaitForAsync(teacherJob, JobTimeout, JobState.Succeeded);
        Assert.StartsWith("artifact:", teacher.ResultArtifact);

        var student = TinySpecs.Distill($"job:{teacherJob}", steps: 6, batch: 4, world: 2);
        var studentJob = await cluster.SubmitAsync(student);
        var distilled = await cluster.WaitForAsync(studentJob, JobTimeout, JobState.Succeeded);

        var evaluation = TinySpecs.Train("tiny-sd", steps: 1, batch: 8, world: 2);
        evaluation.Type = JobType.Evaluate;
        evaluation.Name = "e2e-evaluate";
        evaluation.Model.Checkpoint = $"job:{studentJob}";
        evaluation.Optimizer = null;
        evaluation.Evaluation = new EvaluationSpec { NumSamples = 8, DdimSteps = 5, NumReal = 16 };
        var evaluationJob = await cluster.SubmitAsync(evaluation);
        await cluster.WaitForAsync(evaluationJob, JobTimeout, JobState.Succeeded);

        var evaluations = await cluster.History.ListEvaluationsAsync(new ListEvaluationsRequest { Preset = "tiny-sd" });
        var recorded = Assert.Single(evaluations.Evaluations, e => e.JobId == evaluationJob);
        Assert.Equal(8, recorded.NumSamples);
        Assert.True(recorded.HighFrequencyError > 0 && double.IsFinite(recorded.HighFrequencyError));
        Assert.True(recorded.LowFrequencyError > 0 && double.IsFinite(recorded.LowFrequencyError));
        Assert.Equal(383_791, recorded.Extra["params"]);
        Assert.False(recorded.HasFid, "no inception weights were configured");
        var runs = await cluster.History.ListRunsAsync(new ListRunsRequest());
        Assert.Contains(runs.Runs, r => r.JobId == studentJob && r.FinalMetrics.ContainsKey("loss_freq") && r.FinalMetrics.ContainsKey("it_per_s")
                                        && r.ResultArtifact == distilled.ResultArtifact);

        // The evaluation's pictures went to the artifact store and are served by the dashboard from there.
        using var dashboard = new HttpClient { BaseAddress = new Uri(cluster.DashboardAddress) };
        dashboard.DefaultRequestHeaders.Add("x-api-key", LocalCluster.ApiKey);
        foreach (var picture in new[] { "samples.png", "gates.png", "power-spectrum.png" })
        {
            var response = await dashboard.GetAsync($"/ui/files/{evaluationJob}/{picture}");
            Assert.True(response.IsSuccessStatusCode, $"{picture}: {(int)response.StatusCode}");
            Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await response.Content.ReadAsByteArrayAsync())[..4]);
        }
        var page = await dashboard.GetStringAsync($"/ui/jobs/{evaluationJob}");
        Assert.Contains("id=\"gate-plot\"", page);
        Assert.Contains("id=\"sample-grid\"", page);
    }
}
