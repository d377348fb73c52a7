using SpectralDiffusion.Worker.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Evaluation;

/// <summary>Progress of a long evaluation pass: items done out of the total.</summary>
public delegate void EvaluationProgress(long done, long total);

/// <summary>FID as pytorch-fid computes it: pool3 features of the FID Inception, their Gaussian statistics, and the Fréchet distance.</summary>
public sealed class FidCalculator(FidInceptionV3 model, int batchSize = 50, Device? device = null)
{
    readonly Device device = device ?? CPU;

    /// <summary>The statistics of every image of a dataset (pixels in [−1, 1]), in batches of <c>batchSize</c>.</summary>
    public GaussianStatistics Statistics(IImageDataset dataset, EvaluationProgress? progress = null)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be at least 1");
        var accumulator = new FeatureStatisticsAccumulator(FidInceptionV3.FeatureDimension);
        for (var start = 0; start < dataset.Count; start += batchSize)
        {
            var count = Math.Min(batchSize, dataset.Count - start);
            using var scope = NewDisposeScope();
            accumulator.Add(Features(dataset.GetRange(start, count)));
            progress?.Invoke(start + count, dataset.Count);
        }
        return accumulator.ToStatistics();
    }

    /// <summary>The statistics of a stream of (B, C, H, W) batches in [−1, 1], e.g. samples as they are generated.</summary>
    public GaussianStatistics Statistics(IEnumerable<Tensor> batches)
    {
        var accumulator = new FeatureStatisticsAccumulator(FidInceptionV3.FeatureDimension);
        foreach (var batch in batches)
        {
            using var scope = NewDisposeScope();
            accumulator.Add(Features(batch));
        }
        return accumulator.ToStatistics();
    }

    /// <summary>FID between two datasets.</summary>
    public double Fid(IImageDataset first, IImageDataset second, EvaluationProgress? progress = null)
    {
        long total = first.Count + second.Count;
        var firstStatistics = Statistics(first, (done, _) => progress?.Invoke(done, total));
        var secondStatistics = Statistics(second, (done, _) => progress?.Invoke(first.Count + done, total));
        return FrechetDistance.Compute(firstStatistics, secondStatistics);
    }

    /// <summary>(B, 2048) pool3 features of images in [−1, 1] (grey images are repeated to RGB).</summary>
    public Tensor Features(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] is not (1 or 3))
            throw new ArgumentException($"expected (B, 1 or 3, H, W) images, got [{string.Join(", ", images.shape)}]", nameof(images));
        using var _ = no_grad();
        model.eval();
        model.to(device);
        var rgb = images.shape[1] == 1 ? images.expand(-1, 3, -1, -1) : images;
        return Torch.CollectionPause.Run(() =>
        {
            var unitRange = ((rgb.to(ScalarType.Float32).to(device) + 1) / 2).clamp(0, 1);   // pytorch-fid takes [0, 1]
            return model.call(unitRange);
        });
    }
}
