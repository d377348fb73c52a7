using SpectralDiffusion.Worker.Torch;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Training;

public class FrequencyWeightTests
{
    public FrequencyWeightTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Compute_SmoothImage_OverweightsHighFrequencies()
    {
        // A smooth image (a low-frequency cosine plus a gradient) has almost no high-frequency energy.
        const int size = 32;
        var coordinates = arange(size, dtype: ScalarType.Float32) / size;
        var rows = coordinates.reshape(1, 1, size, 1);
        var columns = coordinates.reshape(1, 1, 1, size);
        var image = (cos(2 * Math.PI * rows) * 0.5f + columns * 0.3f).expand(1, 3, size, size).contiguous();

        var weight = FrequencyWeight.Compute(image, size, size, alpha: 1.0, epsilon: 1e-2);

        // Index 0 is DC; size/2 is the Nyquist frequency on each axis.
        var lowFrequency = weight[0, 0, 1, 0].item<float>();
        var highFrequency = weight[0, 0, size / 2, size / 2].item<float>();
        Assert.True(highFrequency > 10 * lowFrequency, $"high {highFrequency} vs low {lowFrequency}");
        Assert.Equal(1.0, weight.mean().item<float>(), 4);
    }

    [Fact]
    public void Compute_FeatureSmallerThanImage_HasFeatureShapeAndUnitMeanPerSample()
    {
        manual_seed(4);
        var image = rand(3, 3, 32, 32);

        var weight = FrequencyWeight.Compute(image, 8, 8, alpha: 1.0, epsilon: 1e-2);

        Assert.Equal(new long[] { 3, 1, 8, 8 }, weight.shape);
        var perSample = weight.mean(new long[] { 1, 2, 3 });
        for (int b = 0; b < 3; b++) Assert.Equal(1.0, perSample[b].item<float>(), 4);
    }
}
