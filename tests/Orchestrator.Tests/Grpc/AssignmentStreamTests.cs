using Grpc.Core;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>
/// The assignment stream of workers registered by this server: the first stream of a fresh worker has nothing to replay
/// and gets its start order from the scheduler; any later stream replays the current assignment. (A worker registered
/// before a restart gets its replay from the stored assignment: <see cref="RestartTests"/>.)
/// </summary>
public class AssignmentStreamTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    readonly OrchestratorServer server = fixture.Server;
    Jobs.JobsClient Jobs => new(server.AsSubmitter);

    [Fact]
    public async Task Assignments_FreshWorkersOpenTheirFirstStreamsAtOnce_EachGetsOneRankOfAQueuedJob()
    {
        // Arrange: four queued two-rank jobs, no live worker of an earlier test left to take them.
        await NoLiveWorkersAsync();
        var jobs = new List<Job>();
        for (var j = 0; j < 4; j++) jobs.Add(await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 2, name: $"fresh-{j}") }));

        // Act: eight workers register and open their streams concurrently.
        var workers = await Task.WhenAll(Enumerable.Range(0, 8).Select(w => FakeWorker.StartAsync(server.AsWorker, $"fresh-{w}")));
        try
        {
            var starts = await Task.WhenAll(workers.Select(w => w.NextStartAsync()));

            // Assert: every job runs on two of them, ranks 0 and 1 of one attempt and one rendezvous.
            Assert.Equal(jobs.Select(j => j.Id).Order(), starts.Select(s => s.JobId).Distinct().Order());
            Assert.All(starts.GroupBy(s => s.JobId), ranks =>
            {
                Assert.Equal([0, 1], ranks.Select(s => s.Rank).Order());
                Assert.Single(ranks.Select(s => (s.Attempt, s.RendezvousId)).Distinct());
            });
            var listed = await new Workers.WorkersClient(server.AsReader).ListAsync(new ListWorkersRequest());
            Assert.All(workers, w => Assert.Equal("busy", listed.Workers.Single(l => l.Id == w.Id).State));
        }
        finally
        {
            foreach (var job in jobs) await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
            foreach (var worker in workers) await worker.DisposeAsync();
        }
    }

    [Fact]
    public async Task Assignments_SecondStreamOfAWorkerRegisteredHere_ReplaysTheAssignmentItsFirstStreamGot()
    {
        // Arrange: a fresh worker's first stream gets a job submitted after it connected.
        await NoLiveWorkersAsync();
        await using var worker = await FakeWorker.StartAsync(server.AsWorker, "second-stream");
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1, name: "second-stream") });
        var start = await worker.NextStartAsync();

        // Act: a second stream replaces the first; the worker's own loop then reconnects and replaces that one in turn.
        using var second = worker.Client.Assignments(new AssignmentsRequest { WorkerId = worker.Id });
        var replayed = await second.ResponseStream.MoveNext() ? second.ResponseStream.Current.Start : null;
        var replayedOnReconnect = await worker.NextStartAsync();
        var secondEnded = !await second.ResponseStream.MoveNext();
        var listed = await new Workers.WorkersClient(server.AsReader).ListAsync(new ListWorkersRequest());

        // Assert: both later streams replayed the same start order, and replacing a stream did not lose the worker.
        Assert.NotNull(replayed);
        Assert.Equal((job.Id, 1, 0, start.RendezvousId), (replayed.JobId, replayed.Attempt, replayed.Rank, replayed.RendezvousId));
        Assert.Equal((job.Id, 1, 0, start.RendezvousId), (replayedOnReconnect.JobId, replayedOnReconnect.Attempt, replayedOnReconnect.Rank, replayedOnReconnect.RendezvousId));
        Assert.True(secondEnded, "the replaced stream did not end");
        Assert.Equal("busy", listed.Workers.Single(w => w.Id == worker.Id).State);
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
    }

    /// <summary>Waits until workers of earlier tests in this class are lost (their streams closed), so none takes this test's jobs.</summary>
    Task NoLiveWorkersAsync() => Eventually.ReturnsAsync(
        async () => (await new Workers.WorkersClient(server.AsReader).ListAsync(new ListWorkersRequest())).Workers.Count,
        count => count == 0, what: "no live worker");
}
