using ScottPlot;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary>The report's curves as PNGs: each arm's mean loss curve overlaid, and each gated arm's mean gate per band.</summary>
public static class SweepReportPlots
{
    public static IReadOnlyList<string> Write(SweepReport report, string folder)
    {
        Directory.CreateDirectory(folder);
        var written = new List<string>();
        if (report.LossCurves.Count > 0)
            written.Add(Save(Path.Combine(folder, "loss-curves.png"), $"{report.Name}: training loss, mean over seeds", "step", "log10 loss",
                report.LossCurves.Select(c => (c.Arm, c.X.ToArray(), c.Y.Select(y => Math.Log10(Math.Max(y, 1e-30))).ToArray()))));
        if (report.GateCurves.Count > 0)
            written.Add(Save(Path.Combine(folder, EvaluationArtifacts.GatePlot), $"{report.Name}: mean wavelet gate, mean over seeds", "denoising step (0 = noisiest)", "mean gate",
                report.GateCurves.Select(c => ($"{c.Arm} {c.Series}", c.X.ToArray(), c.Y.ToArray()))));
        return written;
    }

    static string Save(string path, string title, string xLabel, string yLabel, IEnumerable<(string Name, double[] X, double[] Y)> lines)
    {
        var plot = new Plot();
        foreach (var (name, x, y) in lines)
        {
            var scatter = plot.Add.Scatter(x, y);
            scatter.LegendText = name;
            scatter.MarkerSize = x.Length > 60 ? 0 : 4;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend();
        plot.SavePng(path, 900, 560);
        return path;
    }
}
