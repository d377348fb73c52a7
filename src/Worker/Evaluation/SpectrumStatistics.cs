using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Evaluation;

/// <summary>
/// Running means, over images and channels, of the centred (fftshift) 2-D spectrum of a set of images:
/// the log-magnitude log(|FFT2(x)| + ε) for the paper's Table 1 errors and the power |FFT2(x)|² for radial spectra.
/// </summary>
public sealed class SpectrumStatistics
{
    /// <summary>ε in log(|F| + ε), so that empty frequencies stay finite.</summary>
    public const double LogEpsilon = 1e-8;
    double[]? logMagnitudeSum, powerSum;

    public int Height { get; private set; }
    public int Width { get; private set; }
    public long Count { get; private set; }

    /// <summary>Adds a (B, C, H, W) batch of images in [−1, 1].</summary>
    public void Add(Tensor images)
    {
        if (images.dim() != 4) throw new ArgumentException($"expected (B, C, H, W) images, got [{string.Join(", ", images.shape)}]", nameof(images));
        var (height, width) = ((int)images.shape[2], (int)images.shape[3]);
        if (Count > 0 && (height, width) != (Height, Width))
            throw new ArgumentException($"images are {height}x{width} but earlier ones were {Height}x{Width}", nameof(images));
        using var scope = NewDisposeScope();
        var magnitude = fft.fftshift(fft.fft2(images.detach().to(ScalarType.Float64).cpu()), [-2, -1]).abs();
        var logMagnitude = (magnitude + LogEpsilon).log().sum([0, 1]).data<double>().ToArray();
        var power = magnitude.pow(2).sum([0, 1]).data<double>().ToArray();
        (Height, Width) = (height, width);
        logMagnitudeSum ??= new double[height * width];
        powerSum ??= new double[height * width];
        for (var i = 0; i < logMagnitudeSum.Length; i++)
        {
            logMagnitudeSum[i] += logMagnitude[i];
            powerSum[i] += power[i];
        }
        Count += images.shape[0] * images.shape[1];
    }

    /// <summary>The mean log-magnitude spectrum, (H, W) row-major, zero frequency at (H/2, W/2).</summary>
    public double[] MeanLogMagnitude => Mean(logMagnitudeSum);

    /// <summary>The mean power spectrum, (H, W) row-major, zero frequency at (H/2, W/2).</summary>
    public double[] MeanPower => Mean(powerSum);

    /// <summary>Distance of each (H, W) frequency from the zero frequency, in frequency-grid units.</summary>
    public double[] Radii()
    {
        var radii = new double[Height * Width];
        for (var y = 0; y < Height; y++)
        for (var x = 0; x < Width; x++)
            radii[y * Width + x] = Math.Sqrt(Math.Pow(y - Height / 2, 2) + Math.Pow(x - Width / 2, 2));
        return radii;
    }

    /// <summary>[count, Σ log-magnitude..., Σ power...]: summable across ranks; see <see cref="Unpack"/>.</summary>
    public double[] Pack()
    {
        if (logMagnitudeSum is null || powerSum is null) throw new InvalidOperationException("no images were added");
        return [Count, .. logMagnitudeSum, .. powerSum];
    }

    /// <summary>The statistics whose packed sums are <paramref name="packed"/> (e.g. several ranks' <see cref="Pack"/> added up).</summary>
    public static SpectrumStatistics Unpack(double[] packed, int height, int width)
    {
        var cells = height * width;
        if (packed.Length != 1 + 2 * cells)
            throw new ArgumentException($"packed spectrum statistics of {packed.Length} values do not fit {height}x{width}", nameof(packed));
        return new SpectrumStatistics
        {
            Height = height, Width = width, Count = (long)packed[0],
            logMagnitudeSum = packed[1..(1 + cells)], powerSum = packed[(1 + cells)..],
        };
    }

    double[] Mean(double[]? sum)
    {
        if (sum is null) throw new InvalidOperationException("no images were added");
        return sum.Select(s => s / Count).ToArray();
    }
}
