using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.FirstStage;

/// <summary>
/// The KL autoencoder's posterior (CompVis <c>DiagonalGaussianDistribution</c>): the moments split into mean and
/// log-variance along channels, the log-variance clamped to [−30, 20].
/// </summary>
public sealed class DiagonalGaussian
{
    public DiagonalGaussian(Tensor moments)
    {
        var parts = moments.chunk(2, dim: 1);
        Mean = parts[0];
        LogVariance = parts[1].clamp(-30.0, 20.0);
    }

    public Tensor Mean { get; }
    public Tensor LogVariance { get; }
    public Tensor Std => (0.5 * LogVariance).exp();

    /// <summary>mean + std · ε, ε ~ N(0, I) from <paramref name="generator"/>.</summary>
    public Tensor Sample(Generator? generator = null) => Mean + Std * randn(Mean.shape, dtype: Mean.dtype, device: Mean.device, generator: generator);

    /// <summary>KL(q ‖ N(0, I)) summed over C·H·W, per sample: ½ Σ (μ² + σ² − 1 − log σ²).</summary>
    public Tensor KlToStandardNormal() => 0.5 * (Mean.pow(2) + LogVariance.exp() - 1.0 - LogVariance).sum([1, 2, 3]);
}
