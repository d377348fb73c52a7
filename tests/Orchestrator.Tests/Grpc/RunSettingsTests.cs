using Grpc.Core;
using SpectralDiffusion.Orchestrator.Cli;
using SpectralDiffusion.Orchestrator.Tests.Cli;
using SpectralDiffusion.Orchestrator.Tests.Dashboard;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>What rank 0 resolved for a run reaches the database, RunHistory, <c>orchestrator show</c> and the job page.</summary>
[Collection(ConsoleOutput.Name)]
public class RunSettingsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    readonly OrchestratorServer server = fixture.Server;
    Jobs.JobsClient Jobs => new(server.AsSubmitter);

    static RunSettings Latent() => new()
    {
        BetaStart = 0.00085, BetaEnd = 0.012, Timesteps = 1000, Parameterization = "eps", ScheduleSource = "configs/txt2img-tiny.yaml",
        ScaleFactor = 0.18215, ScaleFactorSource = "configs/txt2img-tiny.yaml", FirstStage = "kl-f8", ModelConfig = "configs/txt2img-tiny.yaml",
        GateInit = "neutral",
    };

    static RunSettingsReport Report(FakeWorker worker, AssignmentStart start, RunSettings settings, int rank = 0) => new()
    {
        WorkerId = worker.Id, JobId = start.JobId, Attempt = start.Attempt, Rank = rank, Settings = settings,
    };

    [Fact]
    public async Task ReportRunSettings_RankZeroOfALiveAttempt_ShownByRunHistoryShowAndTheJobPage()
    {
        // Arrange: a running job.
        await using var worker = await FakeWorker.StartAsync(server.AsWorker, "settings-rank0");
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1, name: "settings-shown") });
        var start = await worker.NextStartAsync();

        // Act: rank 0 reports, then reports again (a retry after a lost answer).
        await worker.Client.ReportRunSettingsAsync(Report(worker, start, Latent()));
        await worker.Client.ReportRunSettingsAsync(Report(worker, start, Latent()));
        var history = await new RunHistory.RunHistoryClient(server.AsReader).GetRunSettingsAsync(new GetRunSettingsRequest { JobId = job.Id });
        var (exitCode, shown) = await ConsoleOutput.CaptureAsync(() =>
            OrchestratorCli.Build().Parse(["show", job.Id, "--address", server.Address, "--api-key", OrchestratorServer.ReadKey]).InvokeAsync());
        using var dashboard = DashboardClient.Create(server.DashboardAddress);
        var page = await dashboard.GetStringAsync($"/ui/jobs/{job.Id}");

        // Assert: one row for the attempt, as reported; show and the page print the schedule, scale factor and gates.
        var stored = Assert.Single(history.Attempts);
        var expected = Latent();
        expected.Attempt = start.Attempt;
        Assert.Equal(expected, stored);
        Assert.Equal(0, exitCode);
        Assert.Contains("linear β 0.00085 → 0.012, T = 1000, eps-prediction", shown);
        Assert.Contains("0.18215 (from configs/txt2img-tiny.yaml), first stage kl-f8", shown);
        Assert.Contains("neutral", shown);
        Assert.Contains("id=\"run-settings\"", page);
        Assert.Contains("0.00085 → 0.012, 1000 steps", page);
        Assert.Contains("0.18215 (from configs/txt2img-tiny.yaml)", page);
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
    }

    [Fact]
    public async Task ReportRunSettings_ScheduleOutOfRange_InvalidArgumentNamingTheField()
    {
        await using var worker = await FakeWorker.StartAsync(server.AsWorker, "settings-bad");
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1, name: "settings-bad") });
        var start = await worker.NextStartAsync();
        var settings = Latent();
        settings.BetaEnd = 1.5;

        var error = await Assert.ThrowsAsync<RpcException>(() => worker.Client.ReportRunSettingsAsync(Report(worker, start, settings)).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("settings.beta_start", error.Status.Detail);
        Assert.Empty((await new RunHistory.RunHistoryClient(server.AsReader).GetRunSettingsAsync(new GetRunSettingsRequest { JobId = job.Id })).Attempts);
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
    }

    [Fact]
    public async Task ReportRunSettings_WorkerNotRunningTheRank_PermissionDenied()
    {
        await using var runner = await FakeWorker.StartAsync(server.AsWorker, "settings-runner");
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1, name: "settings-other") });
        var start = await runner.NextStartAsync();
        await using var other = await FakeWorker.StartAsync(server.AsWorker, "settings-other");

        var error = await Assert.ThrowsAsync<RpcException>(() => other.Client.ReportRunSettingsAsync(Report(other, start, Latent())).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
    }

    [Fact]
    public async Task Gc_DryRunJson_OneDocumentThatRemovesNothing()
    {
        var (exitCode, output) = await ConsoleOutput.CaptureAsync(() =>
            OrchestratorCli.Build().Parse(["gc", "--dry-run", "--json", "--address", server.Address, "--api-key", OrchestratorServer.SubmitKey]).InvokeAsync());

        Assert.Equal(0, exitCode);
        using var document = System.Text.Json.JsonDocument.Parse(output);
        Assert.True(document.RootElement.GetProperty("dryRun").GetBoolean());
    }
}
