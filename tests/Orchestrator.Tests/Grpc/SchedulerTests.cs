using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>Jobs that do not fit reserve their device at once (Orchestrator:ReserveAfter 0).</summary>
public sealed class ReservingFixture : ServerFixture
{
    protected override IDictionary<string, string?> Overrides => new Dictionary<string, string?> { ["Orchestrator:ReserveAfter"] = "00:00:00" };
}

public class SchedulerTests(ReservingFixture fixture) : IClassFixture<ReservingFixture>
{
    readonly OrchestratorServer server = fixture.Server;
    Jobs.JobsClient Jobs => new(server.AsSubmitter);

    [Fact]
    public async Task Scheduler_LargeJobWaitsForBusyWorker_LaterSmallJobDoesNotTakeTheFreeOne()
    {
        // Arrange: two workers, one of them busy with a one-rank job.
        await using var a = await FakeWorker.StartAsync(server.AsWorker, "reserve-a");
        await using var b = await FakeWorker.StartAsync(server.AsWorker, "reserve-b");
        var occupant = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1, name: "occupant") });
        var (busy, free) = await FirstStartedAsync(a, b);
        var occupantStart = await busy.NextStartAsync();

        // Act: a two-rank job, then a one-rank job that would fit on the free worker.
        var large = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 2, name: "large") });
        var small = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1, name: "small") });
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var smallWhileWaiting = await Jobs.GetAsync(new GetJobRequest { Id = small.Id });
        var freeGotAnOrder = free.HasPendingOrder;
        await busy.CompleteAsync(occupantStart);
        var (next1, next2) = (await busy.NextStartAsync(), await free.NextStartAsync());

        // Assert: the free worker was held for the large job, which starts as soon as the second worker is free.
        Assert.Equal(JobState.Queued, smallWhileWaiting.State);
        Assert.False(freeGotAnOrder, "the free worker was given the small job");
        Assert.Equal((large.Id, large.Id), (next1.JobId, next2.JobId));
        await Jobs.CancelAsync(new CancelJobRequest { Id = large.Id });
        await Jobs.CancelAsync(new CancelJobRequest { Id = small.Id });
        Assert.Equal(JobState.Succeeded, (await Jobs.GetAsync(new GetJobRequest { Id = occupant.Id })).State);
    }

    [Fact]
    public async Task Scheduler_JobLargerThanEveryLiveWorker_ReservesNothing()
    {
        // Arrange: one worker; a job that needs five (more than this class ever registers) cannot start until more register.
        await using var a = await FakeWorker.StartAsync(server.AsWorker, "unreservable-a");
        var impossible = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 5, name: "impossible") });

        // Act
        var small = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1, name: "small") });
        var start = await a.NextStartAsync();

        // Assert: the small job runs; holding the worker could not help the large one.
        Assert.Equal(small.Id, start.JobId);
        await Jobs.CancelAsync(new CancelJobRequest { Id = impossible.Id });
        await Jobs.CancelAsync(new CancelJobRequest { Id = small.Id });
    }

    /// <summary>Which of two workers received the first start order: (that one, the other). The order stays unread.</summary>
    static async Task<(FakeWorker Busy, FakeWorker Free)> FirstStartedAsync(FakeWorker a, FakeWorker b)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (a.HasPendingOrder) return (a, b);
            if (b.HasPendingOrder) return (b, a);
            await Task.Delay(50);
        }
        throw new TimeoutException("no worker received the occupant job");
    }
}
