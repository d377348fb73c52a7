using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Evaluation;

/// <summary>What an evaluation accumulates over a set of images: their Fourier spectrum and, with an Inception network, its features for FID.</summary>
public sealed class ImageStatistics(FidCalculator? fid)
{
    public SpectrumStatistics Spectrum { get; } = new();

    public FeatureStatisticsAccumulator Features { get; } = new(FidInceptionV3.FeatureDimension);

    /// <summary>Whether <see cref="Features"/> are accumulated (an Inception network was given).</summary>
    public bool HasFeatures => fid is not null;

    /// <summary>Adds a batch of images in [−1, 1], (B, C, H, W).</summary>
    public void Add(Tensor images)
    {
        Spectrum.Add(images);
        if (fid is not null) Features.Add(fid.Features(images));
    }
}
