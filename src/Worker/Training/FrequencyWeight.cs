using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Training;

/// <summary>
/// The spectrum-aware weight of L_freq: w = normalise((|FFT2(resize(x0, size))| + ε)^(−α)), averaged over
/// the channels of x0 and normalised to mean 1 per sample. It over-weights the frequencies where the clean
/// image has little energy: the rare high frequencies.
/// </summary>
public static class FrequencyWeight
{
    /// <summary>Returns (B, 1, height, width) weights for features of that spatial size; no gradient flows through it.</summary>
    public static Tensor Compute(Tensor x0, long height, long width, double alpha, double epsilon)
    {
        if (x0.dim() != 4) throw new ArgumentException($"x0 must be (B, C, H, W), got shape [{string.Join(", ", x0.shape)}]", nameof(x0));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var resized = Resize(x0.to_type(ScalarType.Float32), height, width);
        var magnitude = fft.fft2(resized, norm: TorchSharp.FFTNormType.Ortho).abs();
        var weight = (magnitude + epsilon).pow(-alpha).mean(new long[] { 1 }, keepdim: true);
        weight = weight / weight.mean(new long[] { 1, 2, 3 }, keepdim: true);
        return weight.MoveToOuterDisposeScope();
    }

    /// <summary>Area-averages down (anti-aliased, exact for the power-of-two UNet scales), bilinear up.</summary>
    static Tensor Resize(Tensor x, long height, long width)
    {
        if (x.shape[2] == height && x.shape[3] == width) return x.alias();
        if (x.shape[2] >= height && x.shape[3] >= width)
            return nn.functional.adaptive_avg_pool2d(x, new[] { height, width });
        return nn.functional.interpolate(x, new[] { height, width }, mode: InterpolationMode.Bilinear, align_corners: false);
    }
}
