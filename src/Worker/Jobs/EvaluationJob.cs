using System.Globalization;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Evaluation;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>
/// One rank of an evaluation: samples its share of the images with DDIM, accumulates spectrum (and, with weights,
/// Inception) statistics of generated and real images, pools them over the ranks, and rank 0 reports the paper's
/// Table 1 frequency errors, FID, radial power spectra, the mean gate per band against the denoising step (recorded in the
/// evaluation's extra numbers too, with the same preset's gates at initialisation on the same inputs), and a sample grid.
/// </summary>
public static class EvaluationJob
{
    public static void Run(JobSpec spec, IJobHost host)
    {
        var weights = host.WeightsPath(ModelRole.Model)
                      ?? throw new ArgumentException("model.checkpoint: an evaluate job needs trained weights (job:<id>, artifact:<sha256> or a path)");
        using var model = ModelLoader.Load(spec.Model, weights, spec.Schedule.Seed);
        model.eval();
        using var latentSpace = FirstStageLoader.Load(spec.FirstStage, host.Log, JobRecipes.For(spec.Model));
        latentSpace?.RequireFits(model.Config, "model.preset");
        var real = DatasetFactory.Create(spec.Dataset, latentSpace?.ImageSize(model.Config.ImageSize) ?? model.Config.ImageSize, model.Config.NumClasses ?? 0,
            host.Log, ConditioningInputs.TextContextDim(model.Config));
        using var nullContext = ConditioningInputs.NullContext(spec, model.Config);
        Evaluate(spec, model, real, host, nullContext, latentSpace);
    }

    /// <param name="suppliedNullContext">the empty-prompt embedding named by conditioning.null_context (text models without a learned one).</param>
    /// <param name="latentSpace">For a latent model: samples are decoded by its first stage before PNGs, FID and spectra, and
    /// DDIM's x0 clipping (a pixel-space rule) is off.</param>
    public static EvaluationOutcome? Evaluate(JobSpec spec, UNetModel model, IImageDataset real, IJobHost host, Tensor? suppliedNullContext = null,
        LatentSpace? latentSpace = null)
    {
        var evaluation = spec.Evaluation;
        var total = evaluation.NumSamples;
        var (start, count) = Slice(total, host.WorldSize, host.Rank);
        var batchSize = Math.Max(1, spec.Schedule.BatchSize);
        var sampler = new DdimSampler(NoiseSchedule.From(JobRecipes.Schedule(spec)), evaluation.DdimSteps > 0 ? evaluation.DdimSteps : JobSpecDefaults.DdimSteps, evaluation.Eta);
        var config = model.Config;
        var guidance = evaluation.HasGuidanceScale && (config.IsTextConditional || config is { NumClasses: not null, NullClass: true })
            ? ConditioningInputs.Guidance(model, evaluation.GuidanceScale, suppliedNullContext, "evaluation.guidance_scale", "conditioning.null_context") : null;
        using var captions = ConditioningInputs.SamplingCaptions(spec, config, real, total);
        var inception = evaluation.InceptionWeights.Length > 0 ? InceptionWeights.Load(evaluation.InceptionWeights) : null;
        var fid = inception is null ? null : new FidCalculator(inception, batchSize: 32);

        var generatedSpectrum = new SpectrumStatistics();
        var generatedFeatures = new FeatureStatisticsAccumulator(FidInceptionV3.FeatureDimension);
        var gateSeries = new List<(int Step, float[] Bands, float[] InitialBands)>();
        // The same preset at initialisation, run on the same inputs as the first batch: how far training moved the gates.
        using var initial = config.WaveletGating ? ModelLoader.Load(new ModelSpec { Preset = spec.Model.Preset, GateInit = spec.Model.GateInit }, null, spec.Schedule.Seed) : null;
        initial?.eval();
        var recordingGates = false;
        Tensor? grid = null;
        Denoiser denoiser = (x, t, c) =>
        {
            var eps = model.forward(x, t, c);
            if (recordingGates) initial!.forward(x, t, c).Dispose();
            return eps;
        };
        model.eval();
        for (var done = 0; done < count && !host.Cancellation.IsCancellationRequested; done += batchSize)
        {
            var n = Math.Min(batchSize, count - done);
            using var scope = NewDisposeScope();
            using var generator = new Generator((ulong)DiffusionTrainer.StepSeed(spec.Schedule.Seed ^ 0x5A5A, start + done));
            var conditioning = ConditioningInputs.ForSamples(config, start + done, n, generator, captions);
            recordingGates = done == 0 && initial is not null;
            var samples = sampler.Sample(denoiser, new long[] { n, config.InChannels, config.ImageSize, config.ImageSize }, generator, conditioning, guidance,
                clipDenoised: latentSpace is null, onStep: recordingGates ? (step, _) => gateSeries.Add((step, MeanGatePerBand(model), MeanGatePerBand(initial!))) : null);
            recordingGates = false;
            if (latentSpace is not null) samples = latentSpace.Decode(samples);
            generatedSpectrum.Add(samples);
            if (fid is not null) generatedFeatures.Add(fid.Features(samples));
            if (done == 0) grid = samples.narrow(0, 0, Math.Min(n, 16)).MoveToOuterDisposeScope();
            host.ReportProgress("sample", done + n, count, 0, new Dictionary<string, double>());   // this rank's share
        }
        if (host.Cancellation.IsCancellationRequested) return null;

        var realTotal = Math.Min(evaluation.NumReal > 0 ? evaluation.NumReal : total, real.Count);
        var (realStart, realCount) = Slice(realTotal, host.WorldSize, host.Rank);
        var realSpectrum = new SpectrumStatistics();
        var realFeatures = new FeatureStatisticsAccumulator(FidInceptionV3.FeatureDimension);
        for (var done = 0; done < realCount; done += batchSize)
        {
            using var scope = NewDisposeScope();
            var images = real.GetRange(realStart + done, Math.Min(batchSize, realCount - done));
            realSpectrum.Add(images);
            if (fid is not null) realFeatures.Add(fid.Features(images));
        }

        var pooledGenerated = DistributedStatistics.Pool(host.Collective, generatedSpectrum);
        var pooledReal = DistributedStatistics.Pool(host.Collective, realSpectrum);
        double? fidValue = null;
        if (fid is not null)
            fidValue = FrechetDistance.Compute(
                DistributedStatistics.Pool(host.Collective, realFeatures.ToStatistics()),
                DistributedStatistics.Pool(host.Collective, generatedFeatures.ToStatistics()));
        if (host.Rank != 0) return null;

        var errors = FrequencyErrors.Compute(pooledReal, pooledGenerated);
        var folder = Path.Combine(host.WorkDirectory, "evaluation");
        Directory.CreateDirectory(folder);
        var files = new List<string>();
        var realRadial = RadialPowerSpectrum.From(pooledReal);
        var generatedRadial = RadialPowerSpectrum.From(pooledGenerated);
        var spectrumPlot = Path.Combine(folder, "power-spectrum.png");
        Plots.PowerSpectra(spectrumPlot, realRadial, new Dictionary<string, RadialPowerSpectrum> { [spec.Model.Preset] = generatedRadial });
        files.Add(spectrumPlot);
        if (grid is not null)
        {
            var gridPath = Path.Combine(folder, "samples.png");
            ImageFiles.SaveGrid(grid, gridPath);
            files.Add(gridPath);
            grid.Dispose();
        }
        var bands = GateSeriesKeys.Bands;
        if (gateSeries.Count > 0)
        {
            var gatePlot = Path.Combine(folder, "gates.png");
            Plots.GatesPerBand(gatePlot, bands.Select((band, b) => new PlotSeries(band,
                gateSeries.Select(g => (double)g.Step).ToArray(), gateSeries.Select(g => (double)g.Bands[b]).ToArray())).ToList());
            files.Add(gatePlot);
        }
        var extra = new Dictionary<string, double>
        {
            ["params"] = ModelStatistics.CountParameters(model),
            ["macs"] = ModelStatistics.CountMacs(model, config.ImageSize, config.ImageSize),
            ["cutoff"] = errors.Cutoff,
            ["high_frequency_power_ratio"] = HighPowerRatio(realRadial, generatedRadial, errors.Cutoff / Math.Min(errors.Height, errors.Width)),
        };
        foreach (var (step, trained, untrained) in gateSeries)
            for (var b = 0; b < bands.Length; b++)
            {
                extra[GateSeriesKeys.Trained(bands[b], step)] = trained[b];
                extra[GateSeriesKeys.Initial(bands[b], step)] = untrained[b];
            }
        foreach (var file in files) host.PublishFile(file);
        var outcome = new EvaluationOutcome(spec.Model.Preset, total, fidValue, errors.LowFrequencyError, errors.HighFrequencyError, extra, files);
        host.PublishEvaluation(outcome);
        host.Log.Information("Evaluation of {Preset}: low-frequency error {Low:F4}, high-frequency error {High:F4}, FID {Fid}",
            spec.Model.Preset, outcome.LowFrequencyError, outcome.HighFrequencyError,
            fidValue?.ToString("F2", CultureInfo.InvariantCulture) ?? "n/a (no inception_weights)");
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

    static float[] MeanGatePerBand(UNetModel model)
    {
        var snapshot = model.GateSnapshot();
        var mean = new float[4];
        foreach (var (_, bands) in snapshot)
            for (var b = 0; b < 4; b++) mean[b] += bands[b] / snapshot.Count;
        return mean;
    }

    /// <summary>Rank r's contiguous share [start, start + count) of <paramref name="total"/> items.</summary>
    public static (int Start, int Count) Slice(int total, int worldSize, int rank)
    {
        var start = (int)((long)total * rank / worldSize);
        var end = (int)((long)total * (rank + 1) / worldSize);
        return (start, end - start);
    }
}
