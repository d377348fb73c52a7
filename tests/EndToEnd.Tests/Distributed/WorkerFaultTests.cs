using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Shared.Contracts.V1;
using Xunit.Abstractions;

namespace SpectralDiffusion.EndToEnd.Tests.Distributed;

/// <summary>
/// A job surviving a killed worker: SIGKILL mid-run, a replacement joins, the job resumes from its last complete
/// checkpoint. A failure no retry can pass (a truncated teacher) fails the job at once instead.
/// </summary>
[Collection(EndToEndCollection.Name)]
public class WorkerFaultTests(ITestOutputHelper output)
{
    static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Distill_WorkerKilledMidRun_ResumesFromCheckpointAndEqualsUninterruptedRun()
    {
        await using var cluster = await LocalCluster.StartAsync(output);
        var teacher = TinySpecs.WriteTeacher(cluster.Root);
        cluster.StartWorker("worker-a");
        var victim = cluster.StartWorker("worker-b");
        var spec = TinySpecs.Distill(teacher, steps: 16, batch: 4, world: 2, checkpointEvery: 4);

        // Act: kill one rank once the job is past its second checkpoint, then start a replacement.
        var interrupted = await cluster.SubmitAsync(spec);
        await cluster.WaitForStepAsync(interrupted, 9, JobTimeout);
        victim.KillHard();
        cluster.StartWorker("worker-c");
        var finished = await cluster.WaitForAsync(interrupted, JobTimeout, JobState.Succeeded);

        // Assert: a second attempt resumed from a complete checkpoint, and the loss series continues from there.
        Assert.True(finished.Attempt >= 2, $"expected a restart, got attempt {finished.Attempt}");
        Assert.True(finished.ResumeStep is > 0 and < 16 && finished.ResumeStep % 4 == 0, $"resumed from step {finished.ResumeStep}");
        var series = await cluster.History.GetMetricSeriesAsync(new GetMetricSeriesRequest { JobId = interrupted, Name = "loss" });
        var lastAttempt = series.Samples.Where(s => s.Attempt == finished.Attempt).Select(s => s.Step).Order().ToList();
        Assert.Equal(finished.ResumeStep + 1, lastAttempt.First());
        Assert.Equal(16, lastAttempt.Last());
        Assert.Equal(lastAttempt.Count, lastAttempt.Distinct().Count());

        // The same job without the failure ends with the same parameters.
        var uninterrupted = await cluster.SubmitAsync(spec);
        await cluster.WaitForAsync(uninterrupted, JobTimeout, JobState.Succeeded);
        var resumed = await DataParallelProcessTests.FinalStateAsync(cluster, interrupted);
        var reference = await DataParallelProcessTests.FinalStateAsync(cluster, uninterrupted);
        foreach (var (name, tensor) in reference.Tensors.Where(t => t.Key.StartsWith("model.", StringComparison.Ordinal)))
            Assert.True(tensor.allclose(resumed.Tensors[name], rtol: 1e-5, atol: 1e-6), $"{name} differs between the resumed and the uninterrupted run");
    }

    [Fact]
    public async Task Distill_TruncatedTeacherNamedRelativeToTheDataRoot_FailsAtOnceAsPermanent()
    {
        await using var cluster = await LocalCluster.StartAsync(output);
        var teacher = TinySpecs.WriteTeacher(cluster.Root);
        var bytes = await File.ReadAllBytesAsync(teacher);
        await File.WriteAllBytesAsync(Path.Combine(cluster.Root, "truncated-teacher.safetensors"), bytes[..(bytes.Length / 3)]);
        cluster.StartWorker("worker-a");
        var spec = TinySpecs.Distill("truncated-teacher.safetensors", steps: 4, batch: 2, world: 1);

        var id = await cluster.SubmitAsync(spec);
        var failed = await cluster.WaitForAsync(id, JobTimeout, JobState.Failed);

        Assert.Equal(2, spec.MaxRestarts);
        Assert.Equal((1, 0), (failed.Attempt, failed.Restarts));
        Assert.Contains("truncated-teacher.safetensors", failed.FailureReason);
        Assert.Contains("permanent failure: not retried", failed.FailureReason);
    }

    [Fact]
    public async Task Agent_WrongRegistrationToken_ExitsAtOnceNamingTheTokenInsteadOfRetrying()
    {
        await using var cluster = await LocalCluster.StartAsync(output);

        var worker = cluster.StartWorker("worker-wrong-token", token: "not-the-token");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!worker.HasExited && DateTime.UtcNow < deadline) await Task.Delay(200);

        Assert.True(worker.HasExited, $"the agent kept retrying a refused token:\n{worker.Output}");
        Assert.NotEqual(0, worker.ExitCode);
        Assert.Contains("SD_WORKER_TOKEN", worker.Output);
        Assert.DoesNotContain("retrying in", worker.Output);
    }
}
