using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Spectral;

/// <summary>How the last bias of a gate FFN starts (neutral gates make WG-Up a sparse, half-amplitude upsampler: docs/method.md).</summary>
public enum WaveletGateInit
{
    /// <summary>Zero bias: every gate starts near sigmoid(0) = 0.5, the paper's plain initialisation.</summary>
    Neutral,

    /// <summary>LL gates start near sigmoid(+2) ≈ 0.88 and detail gates near sigmoid(−2) ≈ 0.12, so WG-Down begins
    /// close to the LL band (2× average pooling) and WG-Up close to nearest-neighbour upsampling.</summary>
    LowPass,
}

/// <summary>
/// The gate of paper Eq. 8 (§5.1): g = sigmoid(FFN(AvgPool(X))), FFN = Linear(C, C/4) → SiLU → Linear(C/4, 4C),
/// one gate per band and channel, returned as (B, C, 4) in <see cref="HaarWavelet.BandNames"/> order.
/// The mean gate per band of the last forward pass stays observable (the paper's Figure 9).
/// </summary>
public sealed class WaveletGate : nn.Module<Tensor, Tensor>
{
    public const double LowPassBias = 2.0;

    readonly Linear reduce;
    readonly Linear expand;
    readonly long channels;
    Tensor? lastMeanGatePerBand;

    public WaveletGate(long channels, WaveletGateInit init = WaveletGateInit.LowPass) : base(nameof(WaveletGate))
    {
        if (channels < 4)
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "a wavelet gate needs at least 4 channels (its hidden layer has C/4)");
        this.channels = channels;
        reduce = nn.Linear(channels, channels / 4);
        expand = nn.Linear(channels / 4, HaarWavelet.BandCount * channels);
        if (init == WaveletGateInit.LowPass)
        {
            using var _ = no_grad();
            expand.bias!.fill_(-LowPassBias);
            expand.bias![TensorIndex.Slice(0, channels)].fill_(LowPassBias); // band-major: the first C outputs gate LL
        }
        RegisterComponents();
    }

    public long Channels => channels;

    /// <summary>Mean gate per band (LL, LH, HL, HH) over batch and channels of the last forward, or null before any.</summary>
    public float[]? MeanGatePerBand => lastMeanGatePerBand?.data<float>().ToArray();

    public override Tensor forward(Tensor x)
    {
        var pooled = x.mean(new long[] { 2, 3 });                                  // AvgPool(X): (B, C)
        var gates = nn.functional.sigmoid(expand.forward(nn.functional.silu(reduce.forward(pooled))));
        var perBand = gates.view(x.shape[0], HaarWavelet.BandCount, channels);      // (B, 4, C)
        Remember(perBand);
        return perBand.transpose(1, 2);                                             // (B, C, 4)
    }

    void Remember(Tensor perBand)
    {
        using var _ = no_grad();
        var mean = perBand.mean(new long[] { 0, 2 }).to(ScalarType.Float32, CPU).DetachFromDisposeScope();
        lastMeanGatePerBand?.Dispose();
        lastMeanGatePerBand = mean;
    }

    /// <summary>Multiply-adds of the two Linear layers for one sample (ptflops convention, bias included).</summary>
    public long CountMacs() => channels * (channels / 4) + channels / 4 + (channels / 4) * HaarWavelet.BandCount * channels + HaarWavelet.BandCount * channels;

    protected override void Dispose(bool disposing)
    {
        if (disposing) lastMeanGatePerBand?.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>
/// WG-Down (paper §5.1): Σ_b g_b ⊙ DWT_b(X), C channels at half resolution. The gated sum of the four Haar bands
/// applies one per-sample 2×2 kernel Σ_b g_b K_b to the pixels of each block (a depthwise stride-2 convolution), so no
/// band is materialised.
/// </summary>
public sealed class WaveletGatedDownsample : nn.Module<Tensor, Tensor>
{
    readonly WaveletGate gate;

    public WaveletGatedDownsample(long channels, WaveletGateInit init = WaveletGateInit.LowPass) : base(nameof(WaveletGatedDownsample))
    {
        gate = new WaveletGate(channels, init);
        RegisterComponents();
    }

    public WaveletGate Gate => gate;

    public override Tensor forward(Tensor x)
    {
        var (batch, channels, height, width) = HaarWavelet.CheckEvenImage(x, nameof(x));
        var kernels = GatedKernels(gate.forward(x), x.dtype, x.device);           // (B, C, 4 taps)
        // One depthwise stride-2 convolution with a 2×2 kernel per (sample, channel): the batch folds into the groups.
        var folded = nn.functional.conv2d(x.reshape(1, batch * channels, height, width), kernels.reshape(batch * channels, 1, 2, 2),
            null, [2, 2], [0, 0], [1, 1], batch * channels);
        return folded.view(batch, channels, height / 2, width / 2);
    }

    /// <summary>Per-sample 2×2 kernels Σ_b g_b K_b as (B, C, 4 taps) from gates (B, C, 4 bands).</summary>
    internal static Tensor GatedKernels(Tensor gates, ScalarType dtype, Device device) =>
        gates.matmul(HaarWavelet.Filters(dtype, device).view(HaarWavelet.BandCount, 4));
}

/// <summary>
/// WG-Up (paper §5.1): IDWT(g_LL⊙X, g_LH⊙X, g_HL⊙X, g_HH⊙X), C channels at double resolution. X is the coefficient
/// of every band; the gated inverse transform spreads each coefficient over its 2×2 block with the per-sample kernel
/// Σ_b g_b K_b (a batched 4×1 · 1×hw product) and a pixel shuffle.
/// </summary>
public sealed class WaveletGatedUpsample : nn.Module<Tensor, Tensor>
{
    readonly WaveletGate gate;

    public WaveletGatedUpsample(long channels, WaveletGateInit init = WaveletGateInit.LowPass) : base(nameof(WaveletGatedUpsample))
    {
        gate = new WaveletGate(channels, init);
        RegisterComponents();
    }

    public WaveletGate Gate => gate;

    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4)
            throw new ArgumentException($"WG-Up expects a (B, C, H, W) tensor; got ({string.Join(", ", x.shape)})", nameof(x));
        var (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        var kernels = WaveletGatedDownsample.GatedKernels(gate.forward(x), x.dtype, x.device); // (B, C, 4 taps)
        var taps = kernels.unsqueeze(3).matmul(x.reshape(batch, channels, 1, height * width)); // (B, C, 4, h·w)
        return HaarWavelet.FromTaps(taps, height, width);
    }
}
