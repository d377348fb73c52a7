using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>What the orchestrator does with a failed rank by the class the worker reports: permanent fails the job at once, transient retries.</summary>
public class FailureClassTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    readonly OrchestratorServer server = fixture.Server;
    Jobs.JobsClient Jobs => new(server.AsSubmitter);

    [Fact]
    public async Task CompleteAttempt_PermanentFailure_FailsJobAtOnceWithTheErrorDespiteRestartsLeft()
    {
        await using var a = await FakeWorker.StartAsync(server.AsWorker, "permanent-a");
        await using var b = await FakeWorker.StartAsync(server.AsWorker, "permanent-b");
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 2, maxRestarts: 2) });
        var (startA, startB) = (await a.NextStartAsync(), await b.NextStartAsync());

        await a.CompleteAsync(startA, succeeded: false, error: "teacher.safetensors: tensor 'out.2.weight' lies beyond the end of the file (truncated?)",
            failure: FailureKind.Permanent);
        var abortB = await b.NextAbortAsync();
        await a.NextAbortAsync();
        var failed = await Jobs.GetAsync(new GetJobRequest { Id = job.Id });

        Assert.Equal(JobState.Failed, failed.State);
        Assert.Equal((1, 0), (failed.Attempt, failed.Restarts));
        Assert.Contains("truncated?", failed.FailureReason);
        Assert.Contains("permanent", failed.FailureReason);
        Assert.Equal(startB.Attempt, abortB.Attempt);
        Assert.False(abortB.Cancelled);
        await Task.Delay(300);
        Assert.False(a.HasPendingOrder || b.HasPendingOrder, "a permanently failed job must not be scheduled again");
    }

    [Fact]
    public async Task CompleteAttempt_TransientFailure_RequeuedWhileRestartsRemain()
    {
        await using var a = await FakeWorker.StartAsync(server.AsWorker, "transient-a");
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1, maxRestarts: 2) });
        var first = await a.NextStartAsync();

        await a.CompleteAsync(first, succeeded: false, error: "step 1: grad_norm is NaN", failure: FailureKind.Transient);
        await a.NextAbortAsync();
        var second = await a.NextStartAsync();
        var requeued = await Jobs.GetAsync(new GetJobRequest { Id = job.Id });

        Assert.Equal(2, second.Attempt);
        Assert.Equal(1, requeued.Restarts);
        Assert.Contains("NaN", requeued.FailureReason);
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
    }
}
