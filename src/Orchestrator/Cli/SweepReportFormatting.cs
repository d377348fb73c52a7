using Spectre.Console;
using SpectralDiffusion.Orchestrator.Sweeps;
using SpectralDiffusion.Shared.Contracts.V1;
using static SpectralDiffusion.Orchestrator.Sweeps.SweepReportText;
using SweepReport = SpectralDiffusion.Shared.Contracts.V1.SweepReport;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary>How a sweep report reads in a terminal: one table per arm metric, the paired comparisons, the gate evidence.</summary>
public static class SweepReportFormatting
{
    /// <summary>Writes the report to <paramref name="console"/> (the terminal when null).</summary>
    public static void Write(SweepReport report, IAnsiConsole? console = null)
    {
        console ??= AnsiConsole.Console;
        console.MarkupLineInterpolated($"sweep [bold]{report.Name}[/] {report.SweepId}: {report.State.ToString().ToLowerInvariant()}");
        var metrics = report.Arms.SelectMany(a => a.Metrics.Select(m => m.Metric)).Distinct().ToList();
        var arms = new Table().Border(TableBorder.Rounded).AddColumns(["arm", "done", "params", "MACs", "train s", .. metrics]);
        foreach (var arm in report.Arms)
            arms.AddRow([Markup.Escape(arm.Arm), $"{arm.Succeeded}/{arm.Jobs}", Number(arm.Params / 1e6, "0.###") + "M", Number(arm.Macs / 1e9, "0.###") + "G",
                MeanStd(arm.TrainingSeconds, SecondsFormat), .. metrics.Select(m => arm.Metrics.FirstOrDefault(x => x.Metric == m) is { } s ? MeanStd(s, MetricFormat) : "")]);
        console.Write(arms);

        if (report.Comparisons.Count > 0)
        {
            var pairs = new Table().Border(TableBorder.Rounded).Title("paired by seed: B − A")
                .AddColumns("A", "B", "metric", "mean difference", "std error", "95% interval", "seeds agreeing");
            foreach (var c in report.Comparisons)
                pairs.AddRow(Markup.Escape(c.ArmA), Markup.Escape(c.ArmB), Markup.Escape(c.Metric), Number(c.MeanDifference, MetricFormat),
                    Number(c.StandardError, MetricFormat), Markup.Escape(Interval(c.Ci95Low, c.Ci95High, MetricFormat)), $"{c.Agreeing}/{c.Pairs}");
            console.Write(pairs);
        }

        var gated = report.Arms.Where(a => a.Gates.Count > 0).ToList();
        if (gated.Count > 0)
        {
            var gates = new Table().Border(TableBorder.Rounded).Title("mean gate per band over the denoising steps")
                .AddColumns("arm", "band", "noisiest step", "last step", "range across steps", "|gate − init|");
            foreach (var arm in gated)
                foreach (var g in arm.Gates)
                    gates.AddRow(Markup.Escape(arm.Arm), g.Band, MeanStd(g.FirstStep, GateFormat), MeanStd(g.LastStep, GateFormat),
                        MeanStd(g.RangeAcrossSteps, GateFormat), MeanStd(g.ShiftFromInit, GateFormat));
            console.Write(gates);
        }
    }

    /// <summary>"0.123 ± 0.004 (n=3)"; the spread is n/a below two seeds.</summary>
    public static string MeanStd(MetricSummary? s, string format) => s is null ? "" : SweepReportText.MeanStd(s.Mean, s.Std, s.N, format);
}
