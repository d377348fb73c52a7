using SpectralDiffusion.Worker.Evaluation;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SpectralDiffusion.Worker.Tests.Evaluation;

public class FrequencyErrorsTests
{
    public FrequencyErrorsTests() => TorchRuntime.EnsureLoaded();

    static Tensor WhiteNoise(int seed) => (randn([16, 3, 32, 32], generator: new Generator((ulong)seed)) * 0.3).clamp(-1, 1);

    /// <summary>Smooth images: 4x4 noise upsampled bicubically to 32x32.</summary>
    static Tensor Smooth(int seed) =>
        F.interpolate(randn([16, 3, 4, 4], generator: new Generator((ulong)seed)) * 0.3, [32, 32], mode: InterpolationMode.Bicubic, align_corners: false).clamp(-1, 1);

    static SpectrumStatistics Spectrum(Tensor images)
    {
        var statistics = new SpectrumStatistics();
        statistics.Add(images[..8]);
        statistics.Add(images[8..]);
        return statistics;
    }

    [Fact]
    public void Compute_IdenticalSets_ZeroErrors()
    {
        var images = WhiteNoise(1);

        var errors = FrequencyErrors.Compute(Spectrum(images), Spectrum(images));

        Assert.Equal(0.0, errors.LowFrequencyError);
        Assert.Equal(0.0, errors.HighFrequencyError);
        Assert.Equal(3.5, errors.Cutoff);   // 28 · 32 / 256
    }

    [Fact]
    public void Compute_WhiteNoiseAgainstSmoothImages_HighFrequencyErrorDominates()
    {
        var errors = FrequencyErrors.Compute(Spectrum(WhiteNoise(1)), Spectrum(Smooth(2)));

        Assert.True(errors.HighFrequencyError > 2 * errors.LowFrequencyError, errors.ToString());
    }

    [Fact]
    public void RadialPowerSpectrum_WhiteNoise_IsFlatAndSmoothImagesFall()
    {
        var white = RadialPowerSpectrum.From(Spectrum(WhiteNoise(3)));
        var smooth = RadialPowerSpectrum.From(Spectrum(Smooth(4)));

        Assert.Equal(17, white.Power.Length);
        Assert.Equal(0.5, white.Frequencies[^1]);
        Assert.InRange(white.Power[12] / white.Power[3], 0.7, 1.4);
        Assert.True(smooth.Power[12] < 1e-2 * smooth.Power[1], $"{smooth.Power[12]} vs {smooth.Power[1]}");
    }

    [Fact]
    public void PowerSpectra_RealAndGenerated_WritesPng()
    {
        using var folder = new TemporaryFolder();
        var path = folder.Combine("plots", "spectrum.png");

        Plots.PowerSpectra(path, RadialPowerSpectrum.From(Spectrum(WhiteNoise(5))),
            new Dictionary<string, RadialPowerSpectrum> { ["smooth"] = RadialPowerSpectrum.From(Spectrum(Smooth(6))) });

        using var image = SkiaSharp.SKBitmap.Decode(path);
        Assert.Equal(800, image.Width);
        Assert.Equal(500, image.Height);
    }
}
