using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Models;
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
    readonly UNetConfig model;

    /// <param name="model">the model trained: its conditioning (none, class labels or captions) decides what each batch carries.</param>
    public LoaderBatches(IImageDataset dataset, int batchSize, long seed, int worldSize, int rank, long startStep, bool horizontalFlip, UNetConfig model)
    {
        var batchesPerEpoch = dataset.Count / (batchSize * worldSize);
        if (batchesPerEpoch < 1)
            throw new ArgumentException($"the dataset has {dataset.Count} images, fewer than one global batch ({worldSize} ranks × batch_size {batchSize})");
        var state = new SamplerState((int)(startStep / batchesPerEpoch), (int)(startStep % batchesPerEpoch));
        var sampler = new ShardedBatchSampler(dataset.Count, batchSize, (int)seed, worldSize, rank, state);
        loader = new PrefetchingLoader(dataset, sampler, prefetch: 2, randomHorizontalFlip: horizontalFlip, flipSeed: (int)seed);
        if (model.IsTextConditional && dataset is not ICaptionedDataset)
            throw new ArgumentException("dataset.image_folder.caption_embeddings: this text-conditional model needs a caption embedding for every image");
        this.model = model;
    }

    public (Tensor Images, Conditioning Conditioning) Next()
    {
        var batch = loader.Next();
        var conditioning = model.IsTextConditional ? Conditioning.Text(batch.Context())
            : model.NumClasses is not null ? Conditioning.Classes(batch.ClassLabels())
            : Conditioning.None;
        return (batch.Images(), conditioning);
    }

    public void Dispose() => loader.Dispose();
}
