using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using Contracts = SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Dashboard;

/// <summary>
/// A real orchestrator and database with a sweep run to its end through the worker protocol, as real workers would: two
/// arms (<c>lite</c>, and the gated <c>sd</c>) × seeds 1 and 2, each job logging its loss, then reporting an evaluation
/// with the numbers in <see cref="HighFrequencyError"/> and, for <c>sd</c>, the gate series in <see cref="Gates"/>. Then,
/// with no worker left, a second sweep (still active) and a job outside any sweep are submitted.
/// </summary>
public sealed class SweepDashboardFixture : IAsyncLifetime
{
    public static readonly long[] Seeds = [1, 2];

    /// <summary>Each job's evaluated high-frequency error, by (arm, seed).</summary>
    public static readonly Dictionary<(string Arm, long Seed), double> HighFrequencyError = new()
    {
        [("lite", 1)] = 0.30, [("lite", 2)] = 0.40, [("sd", 1)] = 0.25, [("sd", 2)] = 0.32,
    };

    /// <summary>The sd arm's mean HH gate at each denoising step by seed: trained, and at initialisation.</summary>
    public static readonly Dictionary<long, (double[] Trained, double[] Initial)> Gates = new()
    {
        [1] = ([0.5, 0.6, 0.8], [0.5, 0.5, 0.5]),
        [2] = ([0.4, 0.6, 0.7], [0.5, 0.5, 0.5]),
    };

    public static readonly Dictionary<string, double> Params = new() { ["lite"] = 410_000, ["sd"] = 380_000 };

    public FreshDatabase Database { get; private set; } = null!;
    public OrchestratorServer Server { get; private set; } = null!;
    public Sweep Finished { get; private set; } = null!;
    public Sweep Active { get; private set; } = null!;
    public string LoneJobId { get; private set; } = "";

    public string Dashboard => Server.DashboardAddress;

    Contracts.Sweeps.SweepsClient SweepsClient => new(Server.AsSubmitter);

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateFreshAsync();
        Server = await OrchestratorServer.StartAsync(Database);
        await using (var worker = await FakeWorker.StartAsync(Server.AsWorker, "sweep-dashboard-worker"))
        {
            Finished = await SweepsClient.SubmitAsync(new SubmitSweepRequest { Spec = Spec("dash-sweep", "lite", "sd") });
            foreach (var _ in Finished.Jobs) await RunAsync(worker, Finished);
            Finished = await SweepsClient.GetAsync(new GetSweepRequest { Id = Finished.Id });
        }
        Active = await SweepsClient.SubmitAsync(new SubmitSweepRequest { Spec = Spec("dash-sweep-waiting", "lite") });
        LoneJobId = (await new Jobs.JobsClient(Server.AsSubmitter).SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1, name: "dash-lone") })).Id;
    }

    static SweepSpec Spec(string name, params string[] arms)
    {
        var spec = new SweepSpec { Name = name, Base = Specs.Train(worldSize: 1), Seeds = { Seeds } };
        spec.Base.Labels.Clear();
        var presets = new Dictionary<string, string> { ["lite"] = "tiny-lite-ldm", ["sd"] = "tiny-sd" };
        foreach (var arm in arms) spec.Arms.Add(new SweepArm { Name = arm, Set = { "model.preset=" + presets[arm] } });
        return spec;
    }

    /// <summary>The next job the worker is given: a falling loss (1 / (step · seed), × 0.8 for sd), then its evaluation, then success.</summary>
    static async Task RunAsync(FakeWorker worker, Sweep sweep)
    {
        var start = await worker.NextStartAsync();
        var job = sweep.Jobs.Single(j => j.JobId == start.JobId);
        var scale = job.Arm == "sd" ? 0.8 : 1.0;
        for (var step = 10; step <= 30; step += 10) await worker.ReportAsync(start, step, ("loss", scale / (step * job.Seed)));
        var report = new EvaluationReport
        {
            WorkerId = worker.Id, JobId = start.JobId, Attempt = start.Attempt, NumSamples = 16,
            LowFrequencyError = 0.1, HighFrequencyError = HighFrequencyError[(job.Arm, job.Seed)],
            Extra = { ["params"] = Params[job.Arm], ["macs"] = 50 * Params[job.Arm], ["high_frequency_power_ratio"] = 1.5 },
        };
        if (job.Arm == "sd")
        {
            var (trained, initial) = Gates[job.Seed];
            for (var step = 0; step < trained.Length; step++)
            {
                report.Extra[GateSeriesKeys.Trained("HH", step)] = trained[step];
                report.Extra[GateSeriesKeys.Initial("HH", step)] = initial[step];
            }
        }
        await worker.Client.ReportEvaluationAsync(report);
        await worker.CompleteAsync(start);
    }

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        if (Database is not null) await Database.DisposeAsync();
    }
}
