using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Data;

public class ProceduralTextureDatasetTests
{
    public ProceduralTextureDatasetTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Read_SameSeedAndIndex_IsDeterministicAndSeedsDiffer()
    {
        var first = new ProceduralTextureDataset(8, 32, seed: 1).GetRange(0, 8);
        var again = new ProceduralTextureDataset(8, 32, seed: 1).GetRange(0, 8);
        var other = new ProceduralTextureDataset(8, 32, seed: 2).GetRange(0, 8);

        Assert.True(first.eq(again).all().item<bool>());
        Assert.True((first - other).abs().mean().item<float>() > 0.1f);
        Assert.True((first[0] - first[1]).abs().mean().item<float>() > 0.1f, "items of one seed should differ");
        Assert.InRange(first.min().item<float>(), -1f, 0f);
        Assert.InRange(first.max().item<float>(), 0f, 1f);
    }

    [Fact]
    public void Read_ManyImages_PowerLawSpectrumWithHighFrequencyContent()
    {
        // Arrange
        var images = new ProceduralTextureDataset(32, 64, seed: 5).GetRange(0, 32).to(ScalarType.Float64);

        // Act: radially averaged power spectrum of the mean-removed images.
        var centred = images - images.mean([2, 3], keepdim: true);
        var power = fft.fftshift(fft.fft2(centred).abs().pow(2).mean([0, 1]));
        var coordinates = arange(64, ScalarType.Float64) - 32;
        var radius = (coordinates.reshape(-1, 1).pow(2) + coordinates.reshape(1, -1).pow(2)).sqrt().round().to(ScalarType.Int64);
        var profile = zeros(33, ScalarType.Float64).index_add(0, radius.flatten().clamp(0, 32), power.flatten(), 1.0)
                      / zeros(33, ScalarType.Float64).index_add(0, radius.flatten().clamp(0, 32), ones_like(power.flatten()), 1.0);

        // Assert: log-log slope in the natural-image range and real energy near Nyquist.
        var low = Math.Log(profile[2].item<double>());
        var high = Math.Log(profile[24].item<double>());
        var slope = (high - low) / (Math.Log(24) - Math.Log(2));
        Assert.InRange(slope, -4.0, -1.0);
        var highBandShare = profile[16..].sum().item<double>() / profile[1..].sum().item<double>();
        Assert.True(highBandShare > 1e-3, $"power above half-Nyquist is only {highBandShare:E2} of the total");
    }

    [Fact]
    public void Read_SeveralClasses_LabelsCycle()
    {
        var dataset = new ProceduralTextureDataset(6, 8, seed: 0, classes: 3);

        var labels = Enumerable.Range(0, 6).Select(i => dataset.Get(i).Label).ToArray();

        Assert.Equal([0, 1, 2, 0, 1, 2], labels);
    }
}
