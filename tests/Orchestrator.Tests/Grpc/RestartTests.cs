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
