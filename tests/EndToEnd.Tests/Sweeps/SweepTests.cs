using Google.Protobuf;
using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Shared.Contracts.V1;
using Xunit.Abstractions;

namespace SpectralDiffusion.EndToEnd.Tests.Sweeps;

/// <summary>A tiny sweep (a teacher and an SD student, 2 seeds each) through the CLI, the orchestrator and two worker processes.</summary>
[Collection(EndToEndCollection.Name)]
public class SweepTests(ITestOutputHelper output)
{
    static readonly TimeSpan SweepTimeout = TimeSpan.FromMinutes(6);

    const string Spec = """
        name: e2e-sweep
        base:
          type: train
          model: { preset: tiny-ldm }
          dataset: { procedural: { seed: 3, count: 64 }, image_size: 32 }
          schedule: { steps: 4, batch_size: 4, log_every: 1 }
          optimizer: { learning_rate: 0.001, grad_clip: 1.0, ema_decay: 0.999 }
          evaluation: { num_samples: 4, ddim_steps: 4, num_real: 8 }
          world_size: 1
          max_restarts: 1
        seeds: [5, 6]
        arms:
          - { name: teacher, set: [model.preset=tiny-ldm] }
          - { name: sd, set: [type=distill, model.preset=tiny-sd, teacher.preset=tiny-ldm, teacher.checkpoint=arm:teacher] }
        """;

    [Fact]
    public async Task SweepSubmitThenReport_TwoArmsTwoSeeds_StatisticsGatesAndPlots()
    {
        await using var cluster = await LocalCluster.StartAsync(output);
        cluster.StartWorker("sweep-worker-a");
        cluster.StartWorker("sweep-worker-b");
        var file = Path.Combine(cluster.Root, "sweep.yaml");
        await File.WriteAllTextAsync(file, Spec);

        var submitted = JsonParser.Default.Parse<Sweep>(await CliAsync(cluster, "sweep", "submit", file));
        Assert.Equal(4, submitted.Jobs.Count);
        var deadline = DateTime.UtcNow + SweepTimeout;
        Sweep sweep;
        do
        {
            await Task.Delay(500);
            sweep = await cluster.Sweeps.GetAsync(new GetSweepRequest { Id = submitted.Id });
        } while (sweep.State == SweepState.Active && DateTime.UtcNow < deadline);
        Assert.True(sweep.State == SweepState.Succeeded, $"sweep is {sweep.State}: {sweep}\n{cluster.Logs()}");

        var plots = Path.Combine(cluster.Root, "plots");
        var report = JsonParser.Default.Parse<SweepReport>(await CliAsync(cluster, "sweep", "report", submitted.Id, "--plots", plots));

        Assert.Equal(["teacher", "sd"], report.Arms.Select(a => a.Arm));
        foreach (var arm in report.Arms)
        {
            Assert.Equal((2, 2), (arm.Jobs, arm.Succeeded));
            foreach (var metric in new[] { "high_frequency_error", "low_frequency_error", "high_frequency_power_ratio", "final_loss" })
            {
                var summary = Assert.Single(arm.Metrics, m => m.Metric == metric);
                Assert.Equal(2, summary.N);
                Assert.True(double.IsFinite(summary.Mean) && double.IsFinite(summary.Std), $"{arm.Arm} {metric}: {summary}");
            }
            Assert.True(arm.Params > 0 && arm.Macs > 0 && arm.TrainingSeconds.N == 2);
        }
        Assert.Empty(report.Arms[0].Gates);
        var gates = report.Arms[1].Gates;
        Assert.Equal(["LL", "LH", "HL", "HH"], gates.Select(g => g.Band));
        Assert.All(gates, g => Assert.True(g.ShiftFromInit.N == 2 && g.ShiftFromInit.Mean >= 0 && g.FirstStep.Mean is > 0 and < 1));
        var comparison = Assert.Single(report.Comparisons, c => c.Metric == "high_frequency_error");
        Assert.Equal(("teacher", "sd", 2), (comparison.ArmA, comparison.ArmB, comparison.Pairs));
        Assert.Equal(2, report.LossCurves.Count);
        Assert.Equal(4, Assert.Single(report.GateCurves, c => c.Series == "HH").X.Count);
        Assert.True(new FileInfo(Path.Combine(plots, "loss-curves.png")).Length > 1000);
        Assert.True(new FileInfo(Path.Combine(plots, "gates.png")).Length > 1000);
    }

    /// <summary>Runs an <c>orchestrator</c> CLI verb with --json against the cluster; returns its JSON output.</summary>
    static async Task<string> CliAsync(LocalCluster cluster, params string[] arguments)
    {
        await using var cli = ChildProcess.Start("cli", "orchestrator", [.. arguments, "--address", cluster.Address, "--api-key", LocalCluster.ApiKey, "--json"]);
        await cli.WaitForExitAsync();
        Assert.True(cli.ExitCode == 0, $"orchestrator {string.Join(' ', arguments)} exited {cli.ExitCode}:\n{cli.Output}");
        var text = cli.Output;
        return text[text.IndexOf('{')..(text.LastIndexOf('}') + 1)];
    }
}
