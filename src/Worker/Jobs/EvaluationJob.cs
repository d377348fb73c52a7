using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Evaluation;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Sampling;
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
        if (host.Rank == 0) host.PublishRunSettings(ResolvedRunSettings.Of(spec, latentSpace));
        var real = DatasetFactory.Create(spec.Dataset, latentSpace?.ImageSize(model.Config.ImageSize) ?? model.Config.ImageSize, model.Config.NumClasses ?? 0,
            host.Log, ConditioningInputs.TextContextDim(model.Config));
        using var nullContext = ConditioningInputs.NullContext(spec, model.Config);
        Evaluate(spec, model, real, host, nullContext, latentSpace);
    }

    /// <summary>Generated images kept for the report's sample grid (from the first batch).</summary>
    const int GridImages = 16;

    /// <summary>Images per Inception forward pass.</summary>
    const int FidBatchSize = 32;

    /// <param name="suppliedNullContext">the empty-prompt embedding named by conditioning.null_context (text models without a learned one).</param>
    /// <param name="latentSpace">For a latent model: samples are decoded by its first stage before PNGs, FID and spectra, and
    /// DDIM's x0 clipping (a pixel-space rule) is off.</param>
    public static EvaluationOutcome? Evaluate(JobSpec spec, UNetModel model, IImageDataset real, IJobHost host, Tensor? suppliedNullContext = null,
        LatentSpace? latentSpace = null)
    {
        var evaluation = spec.Evaluation;
        var batchSize = Math.Max(1, spec.Schedule.BatchSize);
        var fid = evaluation.InceptionWeights.Length > 0 ? new FidCalculator(InceptionWeights.Load(evaluation.InceptionWeights), FidBatchSize) : null;
        var generated = GenerateAndAccumulate(spec, model, real, host, batchSize, fid, suppliedNullContext, latentSpace);
        if (generated is null) return null;
        var realStatistics = RealStatistics(spec, real, host, batchSize, fid);
        var pooled = Pool(host.Collective, generated.Statistics, realStatistics);
        using var grid = generated.Grid;
        if (host.Rank != 0) return null;
        return EvaluationReportWriter.Publish(spec, model, host, pooled, grid, generated.Gates);
    }

    /// <summary>What this rank generated: the statistics of its share, the grid's images and the gates per step (null when cancelled).</summary>
    sealed record Generated(ImageStatistics Statistics, Tensor? Grid, IReadOnlyList<GateReading> Gates);

    /// <summary>Samples this rank's share of evaluation.num_samples with DDIM and accumulates their statistics.</summary>
    static Generated? GenerateAndAccumulate(JobSpec spec, UNetModel model, IImageDataset real, IJobHost host, int batchSize, FidCalculator? fid,
        Tensor? suppliedNullContext, LatentSpace? latentSpace)
    {
        var evaluation = spec.Evaluation;
        var total = evaluation.NumSamples;
        var (start, count) = Slice(total, host.WorldSize, host.Rank);
        var config = model.Config;
        var ddim = new DdimSampler(NoiseSchedule.From(JobRecipes.Schedule(spec)), evaluation.DdimSteps > 0 ? evaluation.DdimSteps : JobSpecDefaults.DdimSteps, evaluation.Eta);
        var guidance = evaluation.HasGuidanceScale && (config.IsTextConditional || config is { NumClasses: not null, NullClass: true })
            ? ConditioningInputs.Guidance(model, evaluation.GuidanceScale, suppliedNullContext, "evaluation.guidance_scale", "conditioning.null_context") : null;
        using var captions = ConditioningInputs.SamplingCaptions(spec, config, real, total);
        using var gates = GateRecorder.For(model, spec.Model, spec.Schedule.Seed);
        using var seeds = SampleSeeds.PerBatch(spec.Schedule.Seed ^ SeedSalts.EvaluationSamples);
        var statistics = new ImageStatistics(fid);
        Tensor? grid = null;
        model.eval();
        new ImageSampler(model, ddim, guidance, latentSpace).Run(start, count, batchSize, seeds,
            (first, n, generator) => ConditioningInputs.ForSamples(config, first, n, generator, captions),
            batch =>
            {
                statistics.Add(batch.Images);
                if (batch.Offset == 0) grid = batch.Images.narrow(0, 0, Math.Min(batch.Count, GridImages)).MoveToOuterDisposeScope();
                host.ReportProgress("sample", batch.Completed, count, 0, new Dictionary<string, double>());   // this rank's share
            },
            host.Cancellation, gates?.Hooks);
        if (!host.Cancellation.IsCancellationRequested) return new Generated(statistics, grid, gates?.Readings.ToList() ?? []);
        grid?.Dispose();
        return null;
    }

    /// <summary>Accumulates the statistics of this rank's share of evaluation.num_real real images (default: as many as generated).</summary>
    static ImageStatistics RealStatistics(JobSpec spec, IImageDataset real, IJobHost host, int batchSize, FidCalculator? fid)
    {
        var evaluation = spec.Evaluation;
        var realTotal = Math.Min(evaluation.NumReal > 0 ? evaluation.NumReal : evaluation.NumSamples, real.Count);
        var (realStart, realCount) = Slice(realTotal, host.WorldSize, host.Rank);
        var statistics = new ImageStatistics(fid);
        for (var done = 0; done < realCount; done += batchSize)
        {
            using var scope = NewDisposeScope();
            statistics.Add(real.GetRange(realStart + done, Math.Min(batchSize, realCount - done)));
        }
        return statistics;
    }

    /// <summary>Pools both sets of statistics over the ranks (every rank takes part; each then holds all samples' statistics).</summary>
    static PooledStatistics Pool(ICollective? collective, ImageStatistics generated, ImageStatistics real)
    {
        var generatedSpectrum = DistributedStatistics.Pool(collective, generated.Spectrum);
        var realSpectrum = DistributedStatistics.Pool(collective, real.Spectrum);
        double? fid = generated.HasFeatures
            ? FrechetDistance.Compute(
                DistributedStatistics.Pool(collective, real.Features.ToStatistics()),
                DistributedStatistics.Pool(collective, generated.Features.ToStatistics()))
            : null;
        return new PooledStatistics(realSpectrum, generatedSpectrum, fid);
    }

    /// <summary>Rank r's contiguous share [start, start + count) of <paramref name="total"/> items.</summary>
    public static (int Start, int Count) Slice(int total, int worldSize, int rank)
    {
        var start = (int)((long)total * rank / worldSize);
        var end = (int)((long)total * (rank + 1) / worldSize);
        return (start, end - start);
    }
}
