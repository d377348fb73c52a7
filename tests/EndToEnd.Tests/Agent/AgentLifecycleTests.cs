using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Shared.Contracts.V1;
using Xunit.Abstractions;

namespace SpectralDiffusion.EndToEnd.Tests.Agent;

/// <summary>The worker agent process's own lifecycle: registration back-off, and SIGTERM (finish the step, deregister, exit 0).</summary>
[Collection(EndToEndCollection.Name)]
public class AgentLifecycleTests(ITestOutputHelper output)
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Agent_OrchestratorNotServingYet_RetriesRegistrationWithBackoffThenRegisters()
    {
        // Arrange: an agent started before its orchestrator.
        await using var cluster = await LocalCluster.StartAsync(output, startOrchestrator: false);
        var worker = cluster.StartWorker("early-worker");
        await Until(() => Refusals(worker) >= 3, "three refused registrations", worker);
        var refusedBeforeStart = Refusals(worker);

        // Act
        await cluster.StartOrchestratorAsync();
        var registered = await Until(async () => (await cluster.WorkerList.ListAsync(new ListWorkersRequest())).Workers.SingleOrDefault(w => w.Name == "early-worker"),
            "the agent registered", worker);

        // Assert: it kept trying, spaced out, and registered once the orchestrator served.
        Assert.True(refusedBeforeStart >= 3);
        Assert.Contains("retrying in", worker.Output);
        Assert.Equal("idle", registered.State);
        Assert.False(worker.HasExited);
    }

    [Fact]
    public async Task Agent_SigtermWhileIdle_DeregistersAndIsRecordedGone()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync(output);
        var worker = cluster.StartWorker("idle-worker");
        var registered = await Until(async () => (await cluster.WorkerList.ListAsync(new ListWorkersRequest())).Workers.SingleOrDefault(w => w.Name == "idle-worker"),
            "the agent registered", worker);

        // Act
        var exitCode = await worker.StopAsync(Timeout);
        var after = await cluster.WorkerList.ListAsync(new ListWorkersRequest { IncludeGone = true });

        // Assert: a worker that left, not a lost one.
        Assert.Equal(0, exitCode);
        Assert.Equal("gone", after.Workers.Single(w => w.Id == registered.Id).State);
        Assert.Contains("Deregistered", worker.Output);
        Assert.DoesNotContain("Could not deregister", worker.Output);
    }

    [Fact]
    public async Task Agent_SigtermMidAttempt_FinishesTheStepDeregistersAndTheJobIsRequeued()
    {
        // Arrange: a one-rank job far from done.
        await using var cluster = await LocalCluster.StartAsync(output);
        var worker = cluster.StartWorker("stopping-worker");
        var jobId = await cluster.SubmitAsync(TinySpecs.Train("tiny-ldm", steps: 1000, batch: 2, world: 1));
        await cluster.WaitForStepAsync(jobId, 2, Timeout);

        // Act
        var exitCode = await worker.StopAsync(Timeout);
        var job = await cluster.GetJobAsync(jobId);
        var workers = await cluster.WorkerList.ListAsync(new ListWorkersRequest { IncludeGone = true });

        // Assert: the step finished (no abort), the worker left (gone, not lost), and the job waits for another worker.
        Assert.Equal(0, exitCode);
        Assert.Contains("stopped after step", worker.Output);
        Assert.Equal("gone", workers.Workers.Single(w => w.Name == "stopping-worker").State);
        Assert.Equal((JobState.Queued, 1), (job.State, job.Restarts));
        Assert.Contains("agent stopped", job.FailureReason);
        Assert.DoesNotContain("Could not deregister", worker.Output);
        await cluster.Jobs.CancelAsync(new CancelJobRequest { Id = jobId });
    }

    static int Refusals(ChildProcess worker) => worker.Output.Split("refused or unreachable").Length - 1;

    static Task Until(Func<bool> condition, string what, ChildProcess worker) =>
        Until(() => Task.FromResult(condition() ? (object?)true : null), what, worker);

    static async Task<T> Until<T>(Func<Task<T?>> probe, string what, ChildProcess worker) where T : class
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await probe() is { } value) return value;
            if (worker.HasExited) break;
            await Task.Delay(200);
        }
        throw new Xunit.Sdk.XunitException($"{what}: not within {Timeout}\n{worker.Output}");
    }
}
