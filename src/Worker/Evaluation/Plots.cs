using ScottPlot;

namespace SpectralDiffusion.Worker.Evaluation;

/// <summary>One named line of a plot.</summary>
public sealed record PlotSeries(string Name, double[] X, double[] Y);

/// <summary>The evaluation plots, written as PNG files (ScottPlot).</summary>
public static class Plots
{
    /// <summary>Radially averaged power spectra, real against each generated set, log10 power against frequency.</summary>
    public static void PowerSpectra(string path, RadialPowerSpectrum real, IReadOnlyDictionary<string, RadialPowerSpectrum> generated)
    {
        // Skip the zero frequency (the mean), which dwarfs the rest.
        static PlotSeries Series(string name, RadialPowerSpectrum s) =>
            new(name, s.Frequencies[1..], s.Power[1..].Select(p => Math.Log10(Math.Max(p, 1e-30))).ToArray());
        Lines(path, "Radially averaged power spectrum", "frequency (cycles / pixel)", "log10 power",
            [Series("real", real), .. generated.Select(kv => Series(kv.Key, kv.Value))]);
    }

    /// <summary>Loss curves: several named series against the training step.</summary>
    public static void LossCurves(string path, IReadOnlyList<PlotSeries> losses, bool logScale = true) =>
        Lines(path, "Training losses", "step", logScale ? "log10 loss" : "loss",
            logScale ? losses.Select(s => s with { Y = s.Y.Select(v => Math.Log10(Math.Max(v, 1e-30))).ToArray() }).ToList() : losses);

    /// <summary>Mean gate value per band (LL, LH, HL, HH) against the denoising step (0 = the noisiest).</summary>
    public static void GatesPerBand(string path, IReadOnlyList<PlotSeries> bands) =>
        Lines(path, "Mean wavelet gate per band", "denoising step", "mean gate", bands);

    /// <summary>A line plot of the given series, saved as a PNG (written to a temp file, then renamed).</summary>
    public static void Lines(string path, string title, string xLabel, string yLabel, IReadOnlyList<PlotSeries> series, int width = 800, int height = 500)
    {
        if (series.Count == 0) throw new ArgumentException("a plot needs at least one series", nameof(series));
        var plot = new Plot();
        foreach (var line in series)
        {
            if (line.X.Length != line.Y.Length)
                throw new ArgumentException($"series '{line.Name}' has {line.X.Length} x values and {line.Y.Length} y values", nameof(series));
            var scatter = plot.Add.Scatter(line.X, line.Y);
            scatter.LegendText = line.Name;
            scatter.MarkerSize = line.X.Length > 60 ? 0 : 4;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend();
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, "." + Path.GetFileNameWithoutExtension(path) + ".tmp.png");
        plot.SavePng(temporary, width, height);
        File.Move(temporary, path, overwrite: true);
    }
}
