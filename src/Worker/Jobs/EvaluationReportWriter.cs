using System.Globalization;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Evaluation;
using SpectralDiffusion.Worker.Models;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>The statistics of all ranks' samples and real images, and the FID between them when Inception weights were given.</summary>
public sealed record PooledStatistics(SpectrumStatistics Real, SpectrumStatistics Generated, double? Fid);

/// <summary>
/// Rank 0's part of an evaluation: the paper's Table 1 frequency errors, FID, radial power spectra, the mean gate per band
/// against the denoising step (plot and extra numbers) and a sample grid, written under the work directory and published.
/// </summary>
public static class EvaluationReportWriter
{
    public static EvaluationOutcome Publish(JobSpec spec, UNetModel model, IJobHost host, PooledStatistics pooled, Tensor? grid,
        IReadOnlyList<GateReading> gates)
    {
        var config = model.Config;
        var errors = FrequencyErrors.Compute(pooled.Real, pooled.Generated);
        var folder = Path.Combine(host.WorkDirectory, EvaluationArtifacts.Folder);
        Directory.CreateDirectory(folder);
        var files = new List<string>();
        var realRadial = RadialPowerSpectrum.From(pooled.Real);
        var generatedRadial = RadialPowerSpectrum.From(pooled.Generated);
        var spectrumPlot = Path.Combine(folder, EvaluationArtifacts.SpectrumPlot);
        Plots.PowerSpectra(spectrumPlot, realRadial, new Dictionary<string, RadialPowerSpectrum> { [spec.Model.Preset] = generatedRadial });
        files.Add(spectrumPlot);
        if (grid is not null)
        {
            var gridPath = Path.Combine(folder, EvaluationArtifacts.SampleGrid);
            ImageFiles.SaveGrid(grid, gridPath);
            files.Add(gridPath);
        }
        var bands = GateSeriesKeys.Bands;
        if (gates.Count > 0)
        {
            var gatePlot = Path.Combine(folder, EvaluationArtifacts.GatePlot);
            Plots.GatesPerBand(gatePlot, bands.Select((band, b) => new PlotSeries(band,
                gates.Select(g => (double)g.Step).ToArray(), gates.Select(g => (double)g.Trained[b]).ToArray())).ToList());
            files.Add(gatePlot);
        }
        var extra = new Dictionary<string, double>
        {
            [EvaluationArtifacts.ParamsMetric] = ModelStatistics.CountParameters(model),
            [EvaluationArtifacts.MacsMetric] = ModelStatistics.CountMacs(model, config.ImageSize, config.ImageSize),
            [EvaluationArtifacts.CutoffMetric] = errors.Cutoff,
            [EvaluationArtifacts.HighFrequencyPowerRatioMetric] = HighPowerRatio(realRadial, generatedRadial, errors.Cutoff / Math.Min(errors.Height, errors.Width)),
        };
        foreach (var (step, trained, untrained) in gates)
            for (var b = 0; b < bands.Length; b++)
            {
                extra[GateSeriesKeys.Trained(bands[b], step)] = trained[b];
                extra[GateSeriesKeys.Initial(bands[b], step)] = untrained[b];
            }
        foreach (var file in files) host.PublishFile(file);
        var outcome = new EvaluationOutcome(spec.Model.Preset, spec.Evaluation.NumSamples, pooled.Fid, errors.LowFrequencyError, errors.HighFrequencyError,
            extra, files);
        host.PublishEvaluation(outcome);
        host.Log.Information("Evaluation of {Preset}: low-frequency error {Low:F4}, high-frequency error {High:F4}, FID {Fid}",
            spec.Model.Preset, outcome.LowFrequencyError, outcome.HighFrequencyError,
            pooled.Fid?.ToString("F2", CultureInfo.InvariantCulture) ?? "n/a (no inception_weights)");
        return outcome;
    }

    /// <summary>Generated over real power above the cut-off frequency (cycles per pixel): 1 is a perfect match.</summary>
    static double HighPowerRatio(RadialPowerSpectrum real, RadialPowerSpectrum generated, double cutoff)
    {
        double realPower = 0, generatedPower = 0;
        for (var i = 0; i < real.Frequencies.Length; i++)
            if (real.Frequencies[i] > cutoff) { realPower += real.Power[i]; generatedPower += generated.Power[i]; }
        return realPower > 0 ? generatedPower / realPower : double.NaN;
    }
}
