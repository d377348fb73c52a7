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
}
