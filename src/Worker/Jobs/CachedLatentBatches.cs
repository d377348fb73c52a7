using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>
/// Training latents from a <see cref="LatentCache"/>: the same seeded sharded sampler as <see cref="LoaderBatches"/>, but
/// each batch is gathered from the cached moments, so no step runs the encoder. KL still draws a fresh posterior sample
/// per step (seeded by step and rank, as <see cref="LatentBatches"/> does).
/// </summary>
public sealed class CachedLatentBatches : ITrainingBatches
{
    readonly Tensor moments, labels;
    readonly LatentSpace latentSpace;
    readonly ShardedBatchSampler sampler;
    readonly bool conditional;
    readonly long seed;
    readonly int rank, worldSize;
    long step;

    public CachedLatentBatches(Tensor moments, Tensor labels, LatentSpace latentSpace, int batchSize, long seed, int worldSize, int rank, long startStep, bool conditional)
    {
        var count = (int)moments.shape[0];
        var batchesPerEpoch = count / (batchSize * worldSize);
        if (batchesPerEpoch < 1)
            throw new ArgumentException($"the dataset has {count} images, fewer than one global batch ({worldSize} ranks × batch_size {batchSize})");
        sampler = new ShardedBatchSampler(count, batchSize, (int)seed, worldSize, rank,
            new SamplerState((int)(startStep / batchesPerEpoch), (int)(startStep % batchesPerEpoch)));
        (this.moments, this.labels, this.latentSpace, this.conditional) = (moments, labels, latentSpace, conditional);
        (this.seed, this.rank, this.worldSize, step) = (seed, rank, worldSize, startStep);
    }

    public (Tensor Images, Conditioning Conditioning) Next()
    {
        using var indices = tensor(sampler.Next().Select(i => (long)i).ToArray());
        var batch = moments.index_select(0, indices);
        using var generator = new Generator((ulong)SeedMixer.StepSeed(seed ^ SeedSalts.LatentNoise, step++ * worldSize + rank));
        var latents = latentSpace.Autoencoder.Config.Kind == AutoencoderKind.Kl ? new DiagonalGaussian(batch).Sample(generator) : batch;
        return (latents * latentSpace.ScaleFactor, conditional ? Conditioning.Classes(labels.index_select(0, indices)) : Conditioning.None);
    }

    public void Dispose()
    {
        moments.Dispose();
        labels.Dispose();
    }
}
