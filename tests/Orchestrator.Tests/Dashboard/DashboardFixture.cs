using Microsoft.Playwright;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Dashboard;

/// <summary>
/// A real orchestrator and database seeded through the worker protocol, as real workers would: two finished training runs
/// (metrics, a checkpoint, a final model), an evaluation of each (a sample grid, a gate plot and a spectrum plot uploaded
/// as PNG artifacts, and their numbers), a job still running on <see cref="Runner"/>, and a queued job with no metrics.
/// Also a headless Debian chromium driven through Playwright (no browser download: <see cref="ChromiumPath"/>).
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    /// <summary>Debian's chromium, or SD_CHROMIUM.</summary>
    public static string ChromiumPath => Environment.GetEnvironmentVariable("SD_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>Where the tests leave a screenshot of every page they visit.</summary>
    public static string ScreenshotFolder => Path.Combine(AppContext.BaseDirectory, "screenshots", "dashboard");

    public FreshDatabase Database { get; private set; } = null!;
    public OrchestratorServer Server { get; private set; } = null!;
    public FakeWorker Runner { get; private set; } = null!;
    public AssignmentStart RunningStart { get; private set; } = null!;
    public string TeacherId { get; private set; } = "";
    public string BaselineId { get; private set; } = "";
    public string TeacherEvaluationId { get; private set; } = "";
    public string BaselineEvaluationId { get; private set; } = "";
    public string RunningId { get; private set; } = "";
    public string QueuedId { get; private set; } = "";
    public byte[] SampleGrid { get; } = TestPng.Create(32, 32, (x, y) => ((byte)(x * 8), (byte)(y * 8), (byte)((x / 8 + y / 8) % 2 * 255)));
    public byte[] GatePlot { get; } = TestPng.Create(320, 200, (x, y) => (255, (byte)(255 - y), (byte)x));
    public byte[] SpectrumPlot { get; } = TestPng.Create(320, 200, (x, y) => ((byte)y, 200, (byte)x));
    IPlaywright? Playwright { get; set; }
    IBrowser? Browser { get; set; }

    public string Dashboard => Server.DashboardAddress;

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateFreshAsync();
        Server = await OrchestratorServer.StartAsync(Database);
        Runner = await FakeWorker.StartAsync(Server.AsWorker, "dashboard-worker");
        TeacherId = await TrainAsync("dash-teacher", lossScale: 4);
        TeacherEvaluationId = await EvaluateAsync("dash-teacher-eval", TeacherId, fid: 31.5, parameters: 1_600_000, macs: 210_000_000);
        BaselineId = await TrainAsync("dash-baseline", lossScale: 2);
        BaselineEvaluationId = await EvaluateAsync("dash-baseline-eval", BaselineId, fid: 44.25, parameters: 410_000, macs: 52_000_000);
        var running = await SubmitAsync(Specs.Train(worldSize: 1, name: "dash-running"));
        RunningStart = await Runner.NextStartAsync();
        await Runner.ReportAsync(RunningStart, 10, ("loss", 0.9), ("lr", 1e-3));
        RunningId = running;
        QueuedId = await SubmitAsync(Specs.Train(worldSize: 1, name: "dash-queued"));

    }

    /// <summary>The browser, launched on first use (tests that only speak HTTP never start one).</summary>
    public async Task<IBrowser> BrowserAsync()
    {
        if (Browser is not null) return Browser;
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"no browser at {ChromiumPath}: install Debian's chromium (apt-get install chromium; .ci/run does) or set SD_CHROMIUM");
        Directory.CreateDirectory(ScreenshotFolder);
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        return Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath, Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],   // CI runs as root in a container
        });
    }

    /// <summary>A fresh browser context: no cookies, nobody signed in.</summary>
    public async Task<IPage> NewPageAsync() =>
        await (await (await BrowserAsync()).NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } }))
            .NewPageAsync();

    /// <summary>A fresh browser context (no cookies), signed in with the read key through the login form.</summary>
    public async Task<IPage> SignedInPageAsync(string key = OrchestratorServer.ReadKey)
    {
        var page = await NewPageAsync();
        await page.GotoAsync(Dashboard + "/ui");
        await page.FillAsync("#key", key);
        await page.ClickAsync("#sign-in");
        await page.WaitForSelectorAsync("#jobs");
        return page;
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = true });

    async Task<string> SubmitAsync(JobSpec spec) =>
        (await new Jobs.JobsClient(Server.AsSubmitter).SubmitAsync(new SubmitJobRequest { Spec = spec })).Id;

    /// <summary>A one-rank training run to its end: loss terms, lr and it/s every 10 steps, a checkpoint, the final model.</summary>
    async Task<string> TrainAsync(string name, double lossScale)
    {
        var id = await SubmitAsync(Specs.Train(worldSize: 1, name: name));
        var start = await Runner.NextStartAsync();
        for (var step = 10; step <= start.Spec.Schedule.Steps; step += 10)
            await Runner.ReportAsync(start, step, ("loss", lossScale / step), ("loss_ddpm", 0.7 * lossScale / step), ("loss_freq", 0.2 * lossScale / step),
                ("lr", 1e-3 * (1 - step / 50.0)), ("it_per_s", 8 + step / 10.0));
        await Runner.UploadShardAsync(start, start.Spec.Schedule.Steps, [1, 2, 3, (byte)name.Length]);
        var model = System.Text.Encoding.UTF8.GetBytes("weights of " + name);
        var receipt = await Runner.UploadAsync(new ArtifactHeader
        {
            Kind = ArtifactKind.Model, JobId = id, Attempt = start.Attempt, Sha256 = FakeWorker.Sha256(model), Size = model.Length, Name = "model.safetensors",
        }, model);
        await Runner.CompleteAsync(start, finalArtifact: receipt.Artifact);
        return id;
    }

    /// <summary>An evaluation of <paramref name="modelJob"/>: its three pictures uploaded as job files, then its numbers.</summary>
    async Task<string> EvaluateAsync(string name, string modelJob, double fid, double parameters, double macs)
    {
        var spec = Specs.Train(worldSize: 1, name: name);
        spec.Type = JobType.Evaluate;
        spec.Model.Checkpoint = "job:" + modelJob;
        spec.Evaluation = new EvaluationSpec { NumSamples = 16, DdimSteps = 10 };
        var id = await SubmitAsync(spec);
        var start = await Runner.NextStartAsync();
        foreach (var (file, content) in new[] { ("samples.png", SampleGrid), ("gates.png", GatePlot), ("power-spectrum.png", SpectrumPlot) })
            await Runner.UploadAsync(new ArtifactHeader
            {
                Kind = ArtifactKind.File, JobId = id, Attempt = start.Attempt, Rank = 0, WorldSize = 1, Sha256 = FakeWorker.Sha256(content),
                Size = content.Length, Name = file,
            }, content);
        await Runner.Client.ReportEvaluationAsync(new EvaluationReport
        {
            WorkerId = Runner.Id, JobId = id, Attempt = start.Attempt, Preset = "tiny-ldm", NumSamples = 16, Fid = fid,
            LowFrequencyError = 0.12, HighFrequencyError = 0.34,
            Extra = { ["params"] = parameters, ["macs"] = macs, ["high_frequency_power_ratio"] = 3.5 },
        });
        await Runner.CompleteAsync(start);
        return id;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        Playwright?.Dispose();
        if (Runner is not null) await Runner.DisposeAsync();
        if (Server is not null) await Server.DisposeAsync();
        if (Database is not null) await Database.DisposeAsync();
    }
}
