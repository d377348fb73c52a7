using System.Text.Json;
using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Diffusion;

public class NoiseScheduleTests
{
    [Fact]
    public void LdmLinear_Default_MatchesHandComputedValues()
    {
        // Arrange: β_i = (√0.0015 + i·(√0.0195 − √0.0015)/999)², by hand.
        var first = Math.Sqrt(0.0015);
        var step = (Math.Sqrt(0.0195) - first) / 999;
        var beta1 = Math.Pow(first + step, 2);
        var beta500 = Math.Pow(first + 500 * step, 2);

        // Act
        var schedule = NoiseSchedule.LdmLinear();

        // Assert
        Assert.Equal(1000, schedule.Timesteps);
        Assert.Equal(0.0015, schedule.Betas[0], 15);
        Assert.Equal(0.0195, schedule.Betas[999], 15);
        Assert.Equal(beta1, schedule.Betas[1], 15);
        Assert.Equal(beta500, schedule.Betas[500], 15);
        Assert.Equal((1 - 0.0015) * (1 - beta1), schedule.AlphasCumprod[1], 15);
        Assert.Equal(1.0, schedule.AlphasCumprodPrev[0]);
        Assert.Equal(schedule.AlphasCumprod[998], schedule.AlphasCumprodPrev[999]);
        Assert.InRange(schedule.AlphasCumprod[999], 1.3e-4, 1.5e-4);   // exp(−Σβ) with Σβ ≈ 1000·(0.0015 + √(0.0015·0.0195) + 0.0195)/3 ≈ 8.86
        // β̃_1 = β_1 (1 − ᾱ_0)/(1 − ᾱ_1)
        Assert.Equal(beta1 * 0.0015 / (1 - schedule.AlphasCumprod[1]), schedule.PosteriorVariance[1], 15);
    }

    [PythonTorchFact]
    public void LdmLinear_Default_EqualsCompVisRegisterScheduleInPyTorch()
    {
        // Arrange
        var json = PythonTorch.Run(PythonTorch.Script("Diffusion/py/ldm_schedule.py"), "1000", "0.0015", "0.0195");
        var reference = JsonSerializer.Deserialize<Dictionary<string, double[]>>(json)!;

        // Act
        var schedule = NoiseSchedule.LdmLinear();

        // Assert: float64 all the way; torch's SIMD linspace may round the last bit differently, so allow a few ulps.
        static void Close(double expected, double actual, string what) =>
            Assert.True(Math.Abs(expected - actual) <= 1e-14 * Math.Abs(expected), $"{what}: {expected:R} vs {actual:R}");
        for (var t = 0; t < 1000; t++)
        {
            Close(reference["betas"][t], schedule.Betas[t], $"betas[{t}]");
            Close(reference["alphas_cumprod"][t], schedule.AlphasCumprod[t], $"alphas_cumprod[{t}]");
            Close(reference["posterior_variance"][t], schedule.PosteriorVariance[t], $"posterior_variance[{t}]");
        }
    }

    [Fact]
    public void QSample_PerElementTimesteps_MatchesClosedFormAndInvertsThroughPredictStart()
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        var schedule = NoiseSchedule.LdmLinear();
        var generator = new Generator(3);
        var x0 = randn([2, 3, 4, 4], ScalarType.Float64, generator: generator);
        var noise = randn([2, 3, 4, 4], ScalarType.Float64, generator: generator);
        var t = tensor(new long[] { 10, 900 });

        // Act
        var xt = schedule.QSample(x0, t, noise);
        var recovered = schedule.PredictStartFromNoise(xt, t, noise);
        var recoveredNoise = schedule.PredictNoiseFromStart(xt, t, x0);

        // Assert
        for (var b = 0; b < 2; b++)
        {
            var ab = schedule.AlphasCumprod[b == 0 ? 10 : 900];
            var expected = Math.Sqrt(ab) * x0[b] + Math.Sqrt(1 - ab) * noise[b];
            Assert.True(xt[b].allclose(expected, rtol: 0, atol: 1e-12), $"batch element {b}");
        }
        Assert.True(recovered.allclose(x0, rtol: 0, atol: 1e-10));
        Assert.True(recoveredNoise.allclose(noise, rtol: 0, atol: 1e-10));
    }

    [Fact]
    public void LdmLinear_EndBelowStart_ThrowsNamingArgument()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => NoiseSchedule.LdmLinear(1000, 0.02, 0.01));
        Assert.Equal("linearEnd", error.ParamName);
    }
}
