using System.Diagnostics;
using System.Text.RegularExpressions;
using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Shared.Contracts.V1;
using Xunit.Abstractions;

namespace SpectralDiffusion.EndToEnd.Tests.Distributed;

/// <summary>
/// A warm standby on real processes: two orchestrators on one database, workers and the test's clients given both
/// addresses. The active one is killed (SIGKILL) mid-run; the standby must take over within one lease, and the running
/// attempt must go on where it was: no lease expired, no step redone, each metric point recorded once.
/// </summary>
[Collection(EndToEndCollection.Name)]
public class FailoverTests(ITestOutputHelper output)
{
    const int Steps = 12;
    const int CheckpointEvery = 4;
    /// <summary>
    /// The cluster's lease: a third of the default, and longer than LocalCluster's 4 s because the takeover is timed against
    /// it on a shared 2-core machine where a watchdog pass can stall for seconds.
    /// </summary>
    static readonly TimeSpan Lease = TimeSpan.FromSeconds(10);
    static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Distill_ActiveOrchestratorKilled_StandbyTakesOverWithinOneLeaseAndTheAttemptGoesOn()
    {
        // Arrange: the active orchestrator, its standby, two workers given both addresses, and a running distillation.
        await using var cluster = await LocalCluster.StartAsync(output, withStandby: true, lease: Lease);
        var active = cluster.Orchestrator;
        var standby = await cluster.StartStandbyAsync();
        var teacher = TinySpecs.WriteTeacher(cluster.Root);
        cluster.StartWorker("worker-a", collectiveTimeoutSeconds: 60);
        cluster.StartWorker("worker-b", collectiveTimeoutSeconds: 60);
        var job = await cluster.SubmitAsync(TinySpecs.Distill(teacher, steps: Steps, batch: 4, world: 2, checkpointEvery: CheckpointEvery));
        var beforeKill = await cluster.WaitForStepAsync(job, 3, JobTimeout);
        Assert.False(await LocalCluster.IsReadyAsync(cluster.StandbyDashboardPort!.Value), "the standby is ready while the other one is active");

        // Act: SIGKILL the active orchestrator; time the standby's readiness and the next step.
        var lastStepBeforeKill = await LastLossStepAsync(cluster, job);
        var clock = Stopwatch.StartNew();
        active.KillHard();
        while (!await LocalCluster.IsReadyAsync(cluster.StandbyDashboardPort.Value) && clock.Elapsed < JobTimeout) await Task.Delay(50);
        var ready = clock.Elapsed;
        var unwatched = await LeasesUnwatchedAsync(standby);
        var resumed = await cluster.WaitForStepAsync(job, lastStepBeforeKill + 1, JobTimeout);
        var trainingResumed = clock.Elapsed;
        var finished = await cluster.WaitForAsync(job, JobTimeout, JobState.Succeeded);

        // Assert: the standby took over within one lease, and the attempt was never lost (none of its workers' leases
        // expired, no restart).
        var series = (await cluster.History.GetMetricSeriesAsync(new GetMetricSeriesRequest { JobId = job, Name = "loss" })).Samples;
        var redone = series.Count(s => s.Attempt > 1 && s.Step <= lastStepBeforeKill);
        output.WriteLine($"failover: killed at step {lastStepBeforeKill} (progress {beforeKill.Progress.Step}); standby active (ready) " +
                         $"{ready.TotalSeconds:0.00} s after the kill; first step after it (step {resumed.Progress.Step}) {trainingResumed.TotalSeconds:0.00} s after the kill; " +
                         $"leases unwatched {unwatched.TotalSeconds:0.00} s (database clock: the killed one's last watchdog pass to the standby's first); " +
                         $"steps redone: {redone}; attempts {finished.Attempt}, restarts {finished.Restarts}");
        Assert.True(unwatched <= Lease, $"leases went unwatched for {unwatched.TotalSeconds:0.00} s; the lease is {Lease.TotalSeconds} s\n{cluster.Logs()}");
        Assert.Equal((1, 0), (finished.Attempt, finished.Restarts));
        Assert.Equal(0L, await ChaosTests.ScalarAsync(cluster,
            "SELECT count(*) FROM workers w JOIN attempt_ranks r ON r.worker_id = w.id WHERE w.state = 'lost'"));
        Assert.Equal(0, redone);
        Assert.Equal(Enumerable.Range(1, Steps).Select(i => (long)i), series.Select(s => s.Step));
        Assert.Equal(0L, await ChaosTests.ScalarAsync(cluster, "SELECT count(*) FROM (SELECT 1 FROM metrics GROUP BY job_id, attempt, step, name HAVING count(*) > 1) d"));
    }

    static async Task<long> LastLossStepAsync(LocalCluster cluster, string job) =>
        (await cluster.History.GetMetricSeriesAsync(new GetMetricSeriesRequest { JobId = job, Name = "loss" })).Samples.Select(s => s.Step).DefaultIfEmpty(0).Max();

    /// <summary>
    /// How long no orchestrator watched the leases across the takeover, as the standby's first watchdog pass reports it:
    /// the time since the killed one's last pass, by the database clock (it does not depend on how fast this test polls).
    /// </summary>
    static async Task<TimeSpan> LeasesUnwatchedAsync(ChildProcess standby)
    {
        var deadline = DateTime.UtcNow + JobTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (UnwatchedLine.Match(standby.Output) is { Success: true } found) return TimeSpan.Parse(found.Groups[1].Value);
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"the standby never reported its first watchdog pass:\n{standby.Output}");
    }

    static readonly Regex UnwatchedLine = new(@"Orchestrator active: every live lease .*\(unwatched before: ([0-9:.]+)\)");
}
