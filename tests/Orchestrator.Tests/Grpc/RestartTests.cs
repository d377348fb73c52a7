using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>Leases long enough to outlast a restart of the orchestrator or of PostgreSQL.</summary>
public sealed class LongLeaseFixture : ServerFixture
{
    protected override IDictionary<string, string?> Overrides => new Dictionary<string, string?> { ["Orchestrator:Lease"] = "00:00:15" };
}

/// <summary>Restarts of the orchestrator and of PostgreSQL; the latter cuts every connection of the cluster, so nothing runs beside it.</summary>
[CollectionDefinition(nameof(RestartTests), DisableParallelization = true)]
public sealed class RestartCollection;

[Collection(nameof(RestartTests))]
public class RestartTests(LongLeaseFixture fixture) : IClassFixture<LongLeaseFixture>
{
    readonly OrchestratorServer server = fixture.Server;

    [Fact]
    public async Task Serve_OrchestratorRestartsMidJob_LosesNoStateAndJobCompletes()
    {
        // Arrange: a running job with progress and a complete checkpoint.
        await using var a = await FakeWorker.StartAsync(server.AsWorker, "restart-a");
        await using var b = await FakeWorker.StartAsync(server.AsWorker, "restart-b");
        var jobs = new Jobs.JobsClient(server.AsSubmitter);
        var job = await jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 2) });
        var (startA, startB) = (await a.NextStartAsync(), await b.NextStartAsync());
        await a.ReportAsync(startA, 10, ("loss", 0.8));
        await a.UploadShardAsync(startA, 10, [9]);
        await b.UploadShardAsync(startB, 10, [8]);
        var before = await jobs.GetAsync(new GetJobRequest { Id = job.Id });

        // Act: stop and start the server on the same database and port; the workers reconnect and finish.
        await server.StopAsync();
        await server.StartAsync();
        var replayA = await a.NextStartAsync();
        var after = await jobs.GetAsync(new GetJobRequest { Id = job.Id });
        await a.ReportAsync(startA, 20, ("loss", 0.6));
        await a.CompleteAsync(startA);
        await b.CompleteAsync(startB);
        var done = await jobs.GetAsync(new GetJobRequest { Id = job.Id });

        // Assert
        Assert.Equal(startA.RendezvousId, replayA.RendezvousId);
        Assert.Equal((before.State, before.Attempt, before.Progress.Step, before.Workers), (after.State, after.Attempt, after.Progress.Step, after.Workers));
        Assert.Equal(JobState.Running, after.State);
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(1, done.Attempt);
        var checkpoints = await new RunHistory.RunHistoryClient(server.AsReader).ListCheckpointsAsync(new ListCheckpointsRequest { JobId = job.Id });
        Assert.True(Assert.Single(checkpoints.Checkpoints).Complete);
    }

    [Fact]
    public async Task Rendezvous_KeyPutBeforeRestart_IsReturnedAfterItAndDeletedWithTheAttempt()
    {
        // Arrange: rank 0 of a running job put its ring address.
        await using var run = await TwoRankJob.StartAsync(server, "rendezvous");
        await new Rendezvous.RendezvousClient(run.A.Invoker).PutAsync(new PutRequest { RendezvousId = run.StartA.RendezvousId, Key = "rank-0", Value = ByteString.CopyFromUtf8("127.0.0.1:4000") });

        // Act: the orchestrator restarts before rank 1 asks (the replayed orders show the workers are back); then the attempt ends.
        await server.StopAsync();
        await server.StartAsync();
        await run.A.NextStartAsync();
        await run.B.NextStartAsync();
        var got = await new Rendezvous.RendezvousClient(run.B.Invoker).GetAsync(new GetRequest
        {
            RendezvousId = run.StartB.RendezvousId, Key = "rank-0", Timeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(2)),
        });
        await new Jobs.JobsClient(server.AsSubmitter).CancelAsync(new CancelJobRequest { Id = run.Job.Id });
        var keysLeft = await fixture.Database.ScalarAsync<long>($"SELECT count(*) FROM rendezvous_keys WHERE rendezvous_id = '{run.StartA.RendezvousId}'");

        // Assert
        Assert.Equal("127.0.0.1:4000", got.Value.ToStringUtf8());
        Assert.Equal(0, keysLeft);
    }

    [PostgresRestartFact]
    public async Task Database_PostgresRestartsDuringOperation_IsRiddenOutWithNothingLost()
    {
        // Arrange: a running job; workers heartbeat throughout.
        await using var a = await FakeWorker.StartAsync(server.AsWorker, "pg-a");
        await using var b = await FakeWorker.StartAsync(server.AsWorker, "pg-b");
        var jobs = new Jobs.JobsClient(server.AsSubmitter);
        var job = await jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 2) });
        var (startA, startB) = (await a.NextStartAsync(), await b.NextStartAsync());
        await a.ReportAsync(startA, 10, ("loss", 0.8));

        var startedBefore = await fixture.Database.ScalarAsync<DateTime>("SELECT pg_postmaster_start_time()");

        // Act: report step after step while PostgreSQL restarts, then finish the job.
        var restart = PostgresCluster.RestartAsync();
        var step = 10;
        while (!restart.IsCompleted) await a.ReportAsync(startA, ++step, ("loss", 1.0 / step));
        await restart;
        await a.ReportAsync(startA, ++step, ("loss", 1.0 / step));
        var startedAfter = await fixture.Database.ScalarAsync<DateTime>("SELECT pg_postmaster_start_time()");
        await a.UploadShardAsync(startA, step, [1]);
        await b.UploadShardAsync(startB, step, [2]);
        await a.CompleteAsync(startA);
        await b.CompleteAsync(startB);
        var done = await jobs.GetAsync(new GetJobRequest { Id = job.Id });
        var series = await new RunHistory.RunHistoryClient(server.AsReader).GetMetricSeriesAsync(new GetMetricSeriesRequest { JobId = job.Id, Name = "loss" });

        // Assert: every report stored, the job done on its first attempt, no heartbeat refused.
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(1, done.Attempt);
        Assert.True(startedAfter > startedBefore, "PostgreSQL was not restarted");
        Assert.Equal(Enumerable.Range(10, step - 9).Select(s => (long)s), series.Samples.Select(s => s.Step));
        Assert.Equal(0, a.HeartbeatFailures + b.HeartbeatFailures);
    }
}

/// <summary>Outages longer than the lease (2 s here): the time nobody could renew a lease must not count against it.</summary>
[Collection(nameof(RestartTests))]
public class OutageTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    readonly OrchestratorServer server = fixture.Server;
    Jobs.JobsClient Jobs => new(server.AsSubmitter);

    [Fact]
    public async Task Serve_OrchestratorDownLongerThanLease_WorkersKeepTheirAttempt()
    {
        // Arrange: a running two-rank job.
        await using var run = await TwoRankJob.StartAsync(server, "down", Specs.Train(worldSize: 2, maxRestarts: 1));
        await run.A.ReportAsync(run.StartA, 10, ("loss", 0.8));

        // Act: the orchestrator is down for twice the lease, then serves again; the workers report on.
        await server.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(4));
        await server.StartAsync();
        var (replayA, replayB) = (await run.A.NextStartAsync(), await run.B.NextStartAsync());
        await run.A.ReportAsync(run.StartA, 20, ("loss", 0.6));
        await Task.Delay(TimeSpan.FromSeconds(1));
        var after = await Jobs.GetAsync(new GetJobRequest { Id = run.Job.Id });

        // Assert: same attempt, nobody lost, no abort order.
        Assert.Equal((JobState.Running, 1, 20L), (after.State, after.Attempt, after.Progress.Step));
        Assert.Equal((run.StartA.RendezvousId, run.StartB.RendezvousId), (replayA.RendezvousId, replayB.RendezvousId));
        await AssertStillRunningAsync(run);
    }

    [PostgresRestartFact]
    public async Task Database_PostgresDownLongerThanLease_WorkersKeepTheirAttemptAndReportsAreStored()
    {
        // Arrange: a running two-rank job.
        await using var run = await TwoRankJob.StartAsync(server, "pg-down", Specs.Train(worldSize: 2, maxRestarts: 1));
        await run.A.ReportAsync(run.StartA, 10, ("loss", 0.8));

        // Act: PostgreSQL is stopped for 2.5 leases while rank 0 reports (its call waits for the database), then it is back.
        var outage = PostgresCluster.OutageAsync(TimeSpan.FromSeconds(5));
        await Task.Delay(TimeSpan.FromSeconds(1));
        await run.A.ReportAsync(run.StartA, 11, ("loss", 0.7));
        await outage;
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await run.A.ReportAsync(run.StartA, 12, ("loss", 0.6));
        var after = await Jobs.GetAsync(new GetJobRequest { Id = run.Job.Id });
        var series = await new RunHistory.RunHistoryClient(server.AsReader).GetMetricSeriesAsync(new GetMetricSeriesRequest { JobId = run.Job.Id, Name = "loss" });

        // Assert
        Assert.Equal((JobState.Running, 1, 12L), (after.State, after.Attempt, after.Progress.Step));
        Assert.Equal([10L, 11L, 12L], series.Samples.Select(s => s.Step));
        await AssertStillRunningAsync(run);
    }

    /// <summary>Both workers are still busy with the job and were sent no order (no abort); then the job is cancelled.</summary>
    async Task AssertStillRunningAsync(TwoRankJob run)
    {
        var workers = await new Workers.WorkersClient(server.AsReader).ListAsync(new ListWorkersRequest { IncludeGone = true });
        Assert.All(workers.Workers.Where(w => w.Id == run.A.Id || w.Id == run.B.Id), w => Assert.Equal("busy", w.State));
        Assert.False(run.A.HasPendingOrder || run.B.HasPendingOrder, "an order (abort?) was sent");
        await Jobs.CancelAsync(new CancelJobRequest { Id = run.Job.Id });
    }

    [Fact]
    public async Task Watch_OrchestratorRestartsMidJob_ReconnectsAndEndsWithTheJob()
    {
        // Arrange: a queued job followed by `orchestrator watch` (console output captured: this collection runs alone).
        var jobs = new Jobs.JobsClient(server.AsSubmitter);
        var job = await jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1, name: "watched") });
        var output = new StringWriter();
        var original = Console.Out;
        Console.SetOut(TextWriter.Synchronized(output));
        try
        {
            var watch = Orchestrator.Cli.OrchestratorCli.Build()
                .Parse(["watch", job.Id, "--address", server.Address, "--api-key", OrchestratorServer.ReadKey, "--reconnect-for", "60"]).InvokeAsync();
            await Eventually.ReturnsAsync(() => Task.FromResult(output.ToString()), text => text.Contains("queued"), what: "watch printing the queued job");

            // Act: the orchestrator restarts, then the job is cancelled through the new one.
            await server.StopAsync();
            await server.StartAsync();
            await jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
            var exitCode = await watch.WaitAsync(TimeSpan.FromSeconds(60));

            // Assert: watch saw the end (exit code 4 = cancelled), not a closed stream (1).
            Assert.True(exitCode == 4, $"exit code {exitCode}; output:\n{output}");
            Assert.Contains("reconnecting", output.ToString());
        }
        finally { Console.SetOut(original); }
    }
}
