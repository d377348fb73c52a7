using System.Collections.Concurrent;

namespace SpectralDiffusion.Worker.Data;

/// <summary>
/// Builds batches on a background thread, at most <c>prefetch</c> ahead, so decoding never starves training.
/// Random horizontal flips are decided by (seed, epoch, item), so they are the same on every rank and after a resume.
/// Disposing stops the thread cleanly; an exception on the thread is rethrown by <see cref="Next"/>.
/// </summary>
public sealed class PrefetchingLoader : IDisposable
{
    readonly IImageDataset dataset;
    readonly ShardedBatchSampler sampler;
    readonly bool randomHorizontalFlip;
    readonly int flipSeed;
    readonly BlockingCollection<HostBatch> queue;
    readonly CancellationTokenSource stop = new();
    readonly Thread worker;
    Exception? failure;

    public PrefetchingLoader(IImageDataset dataset, ShardedBatchSampler sampler, int prefetch = 2, bool randomHorizontalFlip = false, int flipSeed = 0)
    {
        if (prefetch < 1) throw new ArgumentOutOfRangeException(nameof(prefetch), prefetch, "prefetch depth must be at least 1");
        this.dataset = dataset;
        this.sampler = sampler;
        this.randomHorizontalFlip = randomHorizontalFlip;
        this.flipSeed = flipSeed;
        queue = new BlockingCollection<HostBatch>(prefetch);
        worker = new Thread(Produce) { IsBackground = true, Name = "batch-prefetch" };
        worker.Start();
    }

    /// <summary>The next batch; blocks until it is ready.</summary>
    public HostBatch Next(CancellationToken cancellation = default)
    {
        try
        {
            return queue.Take(cancellation);
        }
        catch (InvalidOperationException) when (failure is not null)
        {
            throw new InvalidOperationException($"the data loader stopped: {failure.Message}", failure);
        }
    }

    void Produce()
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var epoch = sampler.State.Position == sampler.BatchesPerEpoch ? sampler.State.Epoch + 1 : sampler.State.Epoch;
                var indices = sampler.Next();
                queue.Add(Build(indices, epoch, sampler.State), stop.Token);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            queue.CompleteAdding();
        }
    }

    HostBatch Build(int[] indices, int epoch, SamplerState resumeState)
    {
        var shape = dataset.Shape;
        var pixels = new float[indices.Length * shape.Length];
        var labels = new long[indices.Length];
        var captioned = dataset as ICaptionedDataset;
        var contextLength = captioned is null ? 0 : captioned.ContextTokens * captioned.ContextDim;
        var contexts = captioned is null ? null : new float[indices.Length * contextLength];
        for (var i = 0; i < indices.Length; i++)
        {
            var image = pixels.AsSpan(i * shape.Length, shape.Length);
            labels[i] = dataset.Read(indices[i], image);
            captioned?.ReadContext(indices[i], contexts.AsSpan(i * contextLength, contextLength));
            if (randomHorizontalFlip && (SeedMixer.Mix(flipSeed, epoch, indices[i]) & 1) == 1) ImagePixels.FlipHorizontally(image, shape);
        }
        return new HostBatch(pixels, labels, indices, shape, resumeState, contexts, captioned?.ContextTokens ?? 0, captioned?.ContextDim ?? 0);
    }

    public void Dispose()
    {
        stop.Cancel();
        worker.Join();
        queue.Dispose();
        stop.Dispose();
    }
}
