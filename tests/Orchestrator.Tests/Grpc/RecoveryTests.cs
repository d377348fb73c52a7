using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>What makes a retried report or an interrupted checkpoint harmless: idempotent metrics, manifests written whole, forgiven leases.</summary>
public class RecoveryTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    readonly OrchestratorServer server = fixture.Server;
    Jobs.JobsClient Jobs => new(server.AsSubmitter);

    [Fact]
    public async Task ReportProgress_SameReportSentTwice_StoresOneMetricRow()
    {
        // Arrange: a running job.
        await using var a = await FakeWorker.StartAsync(server.AsWorker, "retry-a");
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1) });
        var start = await a.NextStartAsync();

        // Act: the worker resends reports whose answer it never got (an orchestrator that died after committing them).
        await a.ReportAsync(start, 5, ("loss", 0.9), ("loss_ddpm", 0.8));
        await a.ReportAsync(start, 5, ("loss", 0.9), ("loss_ddpm", 0.8));
        await a.ReportAsync(start, 10, ("loss", 0.7));
        await a.ReportAsync(start, 10, ("loss", 0.7));

        // Assert: one row per (job, attempt, step, name).
        var rows = await fixture.Database.ScalarAsync<long>($"SELECT count(*) FROM metrics WHERE job_id = '{job.Id}'");
        var series = await new RunHistory.RunHistoryClient(server.AsReader).GetMetricSeriesAsync(new GetMetricSeriesRequest { JobId = job.Id, Name = "loss" });
        Assert.Equal(3, rows);
        Assert.Equal([5L, 10L], series.Samples.Select(s => s.Step));
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
    }

    [Fact]
    public async Task UploadArtifact_FirstOfTwoShards_WritesNoCheckpointUntilTheLastArrives()
    {
        // Arrange: a two-rank job.
        await using var run = await TwoRankJob.StartAsync(server, "manifest");
        var history = new RunHistory.RunHistoryClient(server.AsReader);

        // Act: rank 0's shard arrives; then (later) rank 1's.
        var first = await run.A.UploadShardAsync(run.StartA, 10, [1, 2]);
        var afterFirst = await history.ListCheckpointsAsync(new ListCheckpointsRequest { JobId = run.Job.Id });
        var incompleteRows = await fixture.Database.ScalarAsync<long>($"SELECT count(*) FROM checkpoints WHERE job_id = '{run.Job.Id}'");
        var last = await run.B.UploadShardAsync(run.StartB, 10, [3, 4]);
        var afterLast = await history.ListCheckpointsAsync(new ListCheckpointsRequest { JobId = run.Job.Id });

        // Assert: no manifest exists with one shard; the last shard writes it whole, with both shards.
        Assert.False(first.CheckpointComplete);
        Assert.Empty(afterFirst.Checkpoints);
        Assert.Equal(0, incompleteRows);
        Assert.True(last.CheckpointComplete);
        var manifest = Assert.Single(afterLast.Checkpoints);
        Assert.True(manifest.Complete);
        Assert.Equal(last.CheckpointId, manifest.CheckpointId);
        Assert.Equal([first.Artifact, last.Artifact], manifest.ShardArtifacts);
        await Jobs.CancelAsync(new CancelJobRequest { Id = run.Job.Id });
    }

    [Fact]
    public async Task LeaseWatchdog_CouldNotWatchForSeconds_ForgivesThatTimeThenLosesTheHungWorker()
    {
        // Arrange: a worker that stops heartbeating.
        await using var a = await FakeWorker.StartAsync(server.AsWorker, "forgiven-a");
        a.Hang();

        // Act: pretend the watchdog last ran 4 s ago (the orchestrator or its database was down) and the lease ran out meanwhile.
        await fixture.Database.ScalarAsync<int>($"""
            UPDATE lease_clock SET last_tick = now() - interval '4 seconds';
            UPDATE workers SET lease_expires_at = now() - interval '0.5 seconds' WHERE id = '{a.Id}';
            SELECT 1;
            """);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var afterOutage = await StateAsync(a.Id);
        var lost = await Eventually.ReturnsAsync(() => StateAsync(a.Id), state => state == "lost", TimeSpan.FromSeconds(10), "the hung worker lost");

        // Assert: the 4 s the orchestrator could not watch did not count against the lease; the rest of it did.
        Assert.Equal("idle", afterOutage);
        Assert.Equal("lost", lost);
    }

    Task<string?> StateAsync(string workerId) => fixture.Database.ScalarAsync<string>($"SELECT state FROM workers WHERE id = '{workerId}'");
}
