using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>
/// This rank's batches from a prefetching loader over a seeded sharded sampler. Each step takes one global batch,
/// so the sampler's position after step s is a function of s: a resume starts exactly where the run stopped.
/// </summary>
public sealed class LoaderBatches : ITrainingBatches
{
    readonly PrefetchingLoader loader;
    readonly bool conditional;

    public LoaderBatches(IImageDataset dataset, int batchSize, long seed, int worldSize, int rank, long startStep, bool horizontalFlip, bool conditional)
    {
        var batchesPerEpoch = dataset.Count / (batchSize * worldSize);
        if (batchesPerEpoch < 1)
            throw new ArgumentException($"the dataset has {dataset.Count} images, fewer than one global batch ({worldSize} ranks × batch_size {batchSize})");
        var state = new SamplerState((int)(startStep / batchesPerEpoch), (int)(startStep % batchesPerEpoch));
        var sampler = new ShardedBatchSampler(dataset.Count, batchSize, (int)seed, worldSize, rank, state);
        loader = new PrefetchingLoader(dataset, sampler, prefetch: 2, randomHorizontalFlip: horizontalFlip, flipSeed: (int)seed);
        this.conditional = conditional;
    }

    public (Tensor Images, Tensor? Labels) Next()
    {
        var batch = loader.Next();
        return (batch.Images(), conditional ? batch.ClassLabels() : null);
    }

    public void Dispose() => loader.Dispose();
}
