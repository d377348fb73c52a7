using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Diffusion;

public class DdpmSamplerTests
{
    [Fact]
    public void Sample_PointMassOracle_EndsExactlyAtThePoint()
    {
        // Arrange: the exact ε of data that is always c; the last step (t = 0) returns the posterior mean = x̂_0 = c.
        TorchRuntime.EnsureLoaded();
        var schedule = NoiseSchedule.LdmLinear();
        var target = tensor(new[] { -0.5, 0.25, 0.0, 0.75 }, ScalarType.Float64).reshape(1, 1, 2, 2);
        var abar = tensor(schedule.AlphasCumprod.ToArray(), ScalarType.Float64);
        Denoiser oracle = (x, t, _) =>
        {
            var a = abar.gather(0, t).reshape(-1, 1, 1, 1);
            return (x - a.sqrt() * target) / (1 - a).sqrt();
        };
        var steps = 0;

        // Act
        var sample = new DdpmSampler(schedule).Sample(oracle, [2, 1, 2, 2], new Generator(4), onStep: (_, _) => steps++);

        // Assert
        Assert.Equal(1000, steps);
        Assert.True(sample.allclose(target.expand(2, 1, 2, 2), rtol: 0, atol: 1e-9), sample.ToString(TorchSharp.TensorStringStyle.Julia));
    }

    [Fact]
    public void Step_MidwayTimestep_AddsPosteriorNoise()
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        var schedule = NoiseSchedule.LdmLinear();
        var sampler = new DdpmSampler(schedule);
        var generator = new Generator(9);
        var x = randn([1, 1, 3, 3], ScalarType.Float64, generator: generator);
        var eps = randn([1, 1, 3, 3], ScalarType.Float64, generator: generator);
        var z = randn([1, 1, 3, 3], ScalarType.Float64, generator: generator);
        var t = tensor(new long[] { 400 });
        var x0 = schedule.PredictStartFromNoise(x, t, eps);
        var (mean, _) = schedule.Posterior(x0, x, t);

        // Act
        var previous = sampler.Step(x, t, eps, z);

        // Assert: x_{t−1} = μ̃ + √β̃_t z
        var expected = mean + Math.Sqrt(schedule.PosteriorVariance[400]) * z;
        Assert.True(previous.allclose(expected, rtol: 0, atol: 1e-12));
    }
}
