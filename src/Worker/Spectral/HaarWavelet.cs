using SpectralDiffusion.Shared.Jobs;
using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Spectral;

/// <summary>
/// Orthonormal 2-D Haar wavelet transform with stride 2 (paper §3.2: X → {X_LL, X_LH, X_HL, X_HH}).
/// For a 2×2 block [[a, b], [c, d]]: LL = (a+b+c+d)/2, LH = (a+b−c−d)/2 (high-pass along the height),
/// HL = (a−b+c−d)/2 (high-pass along the width), HH = (a−b−c+d)/2.
/// Written as pixel_unshuffle plus a fixed 4×4 mix (and the mix's transpose plus pixel_shuffle), not as strided
/// slicing, because the element-wise version is memory-bound and costs as much as the convolutions it replaces
/// (docs/platform-notes.md); a per-channel grouped convolution measured slower still on CPU.
/// </summary>
public static class HaarWavelet
{
    /// <summary>Band order of every band dimension in this code.</summary>
    public static readonly IReadOnlyList<string> BandNames = GateSeriesKeys.Bands;

    public const int BandCount = 4;

    static readonly float[] FilterValues =
    [
        0.5f, 0.5f, 0.5f, 0.5f,    // LL
        0.5f, 0.5f, -0.5f, -0.5f,  // LH
        0.5f, -0.5f, 0.5f, -0.5f,  // HL
        0.5f, -0.5f, -0.5f, 0.5f,  // HH
    ];

    static readonly ConcurrentDictionary<(ScalarType, DeviceType, int), Tensor> FilterCache = new();

    /// <summary>The four 2×2 analysis filters as a (4, 2, 2) tensor; orthonormal, so synthesis uses the same ones.</summary>
    public static Tensor Filters(ScalarType dtype, Device device) =>
        FilterCache.GetOrAdd((dtype, device.type, device.index), _ =>
        {
            using var cpu = tensor(FilterValues, new long[] { BandCount, 2, 2 });
            return cpu.to(dtype, device).DetachFromDisposeScope();
        });

    /// <summary>DWT of (B, C, H, W) into (B, C, 4, H/2, W/2), bands in <see cref="BandNames"/> order.</summary>
    public static Tensor Dwt(Tensor x)
    {
        var (batch, channels, height, width) = CheckEvenImage(x, nameof(x));
        var mix = Filters(x.dtype, x.device).view(BandCount, 4);                  // (band, tap)
        var bands = mix.matmul(Taps(x));                                          // (B, C, 4 bands, h·w)
        return bands.view(batch, channels, BandCount, height / 2, width / 2);
    }

    /// <summary>IDWT of (B, C, 4, h, w) bands back to (B, C, 2h, 2w); the exact inverse of <see cref="Dwt"/>.</summary>
    public static Tensor Idwt(Tensor bands)
    {
        if (bands.dim() != 5 || bands.shape[2] != BandCount)
            throw new ArgumentException($"Haar IDWT expects bands shaped (B, C, 4, h, w); got ({string.Join(", ", bands.shape)})", nameof(bands));
        var (batch, channels, height, width) = (bands.shape[0], bands.shape[1], bands.shape[3], bands.shape[4]);
        var mix = Filters(bands.dtype, bands.device).view(BandCount, 4);
        var taps = mix.t().matmul(bands.reshape(batch, channels, BandCount, height * width)); // orthonormal: inverse = transpose
        return FromTaps(taps, height, width);
    }

    /// <summary>The four pixels of every 2×2 block as taps (B, C, 4, h·w), tap index = 2·row + column.</summary>
    public static Tensor Taps(Tensor x)
    {
        var (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        return nn.functional.pixel_unshuffle(x, 2).view(batch, channels, 4, height / 2 * (width / 2));
    }

    /// <summary>The inverse of <see cref="Taps"/>: (B, C, 4, h·w) back to (B, C, 2h, 2w).</summary>
    public static Tensor FromTaps(Tensor taps, long height, long width) =>
        nn.functional.pixel_shuffle(taps.reshape(taps.shape[0], taps.shape[1] * 4, height, width), 2);

    /// <summary>Checks a (B, C, H, W) tensor with even H and W, naming the argument otherwise.</summary>
    public static (long Batch, long Channels, long Height, long Width) CheckEvenImage(Tensor x, string argument)
    {
        if (x.dim() != 4)
            throw new ArgumentException($"Haar DWT expects a (B, C, H, W) tensor; got {x.dim()} dimensions ({string.Join(", ", x.shape)})", argument);
        var (height, width) = (x.shape[2], x.shape[3]);
        if (height % 2 != 0 || width % 2 != 0)
            throw new ArgumentException($"Haar DWT needs an even height and width; got {height}×{width}", argument);
        return (x.shape[0], x.shape[1], height, width);
    }
}
