using System.Text.Json;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Diffusion;

public class DdimSamplerTests
{
    static readonly NoiseSchedule Schedule = NoiseSchedule.LdmLinear();

    public DdimSamplerTests() => TorchRuntime.EnsureLoaded();

    /// <summary>The exact ε-predictor for data that is always <paramref name="target"/>: ε = (x_t − √ᾱ_t c)/√(1 − ᾱ_t).</summary>
    static Denoiser PointMassOracle(Tensor target) => (x, t, _) =>
    {
        var abar = tensor(Schedule.AlphasCumprod.ToArray(), ScalarType.Float64).gather(0, t).reshape(-1, 1, 1, 1).to(x.dtype);
        return (x - abar.sqrt() * target) / (1 - abar).sqrt();
    };

    [Fact]
    public void Timesteps_Uniform200_FollowCompVisRangePlusOne()
    {
        var sampler = new DdimSampler(Schedule, steps: 200);

        Assert.Equal(200, sampler.Timesteps.Count);
        Assert.Equal(1, sampler.Timesteps[0]);
        Assert.Equal(6, sampler.Timesteps[1]);
        Assert.Equal(996, sampler.Timesteps[^1]);
    }

    [Fact]
    public void Sample_EtaZero_DependsOnlyOnStartingNoise()
    {
        // Arrange: the same x_T, different generators for any per-step noise.
        var sampler = new DdimSampler(Schedule, steps: 20, eta: 0.0);
        var xT = randn([2, 1, 4, 4], ScalarType.Float64, generator: new Generator(1));
        var oracle = PointMassOracle(full([1, 1, 4, 4], 0.3, ScalarType.Float64));

        // Act
        var first = sampler.Sample(oracle, [2, 1, 4, 4], new Generator(10), xT: xT);
        var second = sampler.Sample(oracle, [2, 1, 4, 4], new Generator(20), xT: xT);
        var stochastic = new DdimSampler(Schedule, steps: 20, eta: 1.0);
        var third = stochastic.Sample(oracle, [2, 1, 4, 4], new Generator(10), xT: xT);
        var fourth = stochastic.Sample(oracle, [2, 1, 4, 4], new Generator(20), xT: xT);

        // Assert
        Assert.True(first.eq(second).all().item<bool>(), "eta = 0 must be deterministic given x_T");
        Assert.False(third.eq(fourth).all().item<bool>(), "eta = 1 draws fresh noise, so different seeds must differ");
    }

    [Fact]
    public void Step_EtaHalf_EqualsClosedForm()
    {
        // Arrange
        var sampler = new DdimSampler(Schedule, steps: 50, eta: 0.5);
        var generator = new Generator(5);
        var x = randn([1, 2, 3, 3], ScalarType.Float64, generator: generator);
        var eps = randn([1, 2, 3, 3], ScalarType.Float64, generator: generator);
        var z = randn([1, 2, 3, 3], ScalarType.Float64, generator: generator);
        const int index = 30;
        var at = Schedule.AlphasCumprod[index * 20 + 1];
        var aprev = Schedule.AlphasCumprod[(index - 1) * 20 + 1];
        var sigma = 0.5 * Math.Sqrt((1 - aprev) / (1 - at) * (1 - at / aprev));
        var x0 = (x - Math.Sqrt(1 - at) * eps) / Math.Sqrt(at);
        var expected = Math.Sqrt(aprev) * x0 + Math.Sqrt(1 - aprev - sigma * sigma) * eps + sigma * z;

        // Act
        var (previous, predictedStart) = sampler.Step(x, eps, index, z);

        // Assert
        Assert.Equal(sigma, sampler.Sigmas[index], 15);
        Assert.True(predictedStart.allclose(x0, rtol: 0, atol: 1e-12));
        Assert.True(previous.allclose(expected, rtol: 0, atol: 1e-12));
    }

    [Fact]
    public void Step_ClipDenoised_ClampsStartAndRecomputesNoise()
    {
        // Arrange: an ε that implies |x̂_0| > 1 everywhere.
        var sampler = new DdimSampler(Schedule, steps: 50);
        const int index = 40;
        var at = Schedule.AlphasCumprod[index * 20 + 1];
        var aprev = Schedule.AlphasCumprod[(index - 1) * 20 + 1];
        var x = full([1, 1, 2, 2], 0.5, ScalarType.Float64);
        var eps = full([1, 1, 2, 2], -3.0, ScalarType.Float64);
        var epsClipped = (x - Math.Sqrt(at) * 1.0) / Math.Sqrt(1 - at);
        var expected = Math.Sqrt(aprev) * 1.0 + Math.Sqrt(1 - aprev) * epsClipped;

        // Act
        var (previous, predictedStart) = sampler.Step(x, eps, index, clipDenoised: true);

        // Assert
        Assert.True(predictedStart.eq(1.0).all().item<bool>());
        Assert.True(previous.allclose(expected, rtol: 0, atol: 1e-12));
    }

    [Fact]
    public void Sample_PointMassOracle_KeepsNoiseDirectionAndLandsNearThePoint()
    {
        // Arrange: with the exact ε of a point mass at c, deterministic DDIM keeps ε fixed along the path,
        // so it lands on √ᾱ_0 c + √(1 − ᾱ_0) ε_T with ε_T = (x_T − √ᾱ_961 c)/√(1 − ᾱ_961).
        var target = tensor(new[] { -0.7, 0.1, 0.4, 0.9 }, ScalarType.Float64).reshape(1, 1, 2, 2);
        var sampler = new DdimSampler(Schedule, steps: 25);
        var xT = randn([3, 1, 2, 2], ScalarType.Float64, generator: new Generator(7));
        double aT = Schedule.AlphasCumprod[961], a0 = Schedule.AlphasCumprod[0];
        var epsT = (xT - Math.Sqrt(aT) * target) / Math.Sqrt(1 - aT);
        var expected = Math.Sqrt(a0) * target + Math.Sqrt(1 - a0) * epsT;
        var visited = new List<(int Step, int Timestep)>();

        // Act
        var sample = sampler.Sample(PointMassOracle(target), [3, 1, 2, 2], xT: xT, onStep: (s, t) => visited.Add((s, t)));

        // Assert
        Assert.True(sample.allclose(expected, rtol: 0, atol: 1e-9), sample.ToString(TorchSharp.TensorStringStyle.Julia));
        Assert.True((sample - target).abs().max().item<double>() < 0.2, "√(1 − ᾱ_0) ≈ 0.039, so the sample sits near c");
        Assert.Equal(25, visited.Count);
        Assert.Equal((0, 961), visited[0]);
        Assert.Equal((24, 1), visited[^1]);
    }

    [Fact]
    public void PredictNoise_GuidanceScaleOne_EqualsConditionalPrediction()
    {
        // Arrange: a label-dependent toy denoiser.
        Denoiser denoiser = (x, t, c) => x * (c.ClassLabels!.to(x.dtype).reshape(-1, 1, 1, 1) + 1) + t.to(x.dtype).reshape(-1, 1, 1, 1) * 1e-3;
        var x = randn([3, 2, 2, 2], ScalarType.Float64, generator: new Generator(2));
        var t = tensor(new long[] { 5, 500, 900 });
        var labels = tensor(new long[] { 0, 3, 7 });

        // Act
        var guidedOne = ClassifierFreeGuidance.ForNullClass(1.0, nullClass: 10).PredictNoise(denoiser, x, t, Conditioning.Classes(labels));
        var guidedThree = ClassifierFreeGuidance.ForNullClass(3.0, nullClass: 10).PredictNoise(denoiser, x, t, Conditioning.Classes(labels));

        // Assert
        var conditional = denoiser(x, t, Conditioning.Classes(labels));
        var unconditional = denoiser(x, t, Conditioning.Classes(full_like(labels, 10)));
        Assert.True(guidedOne.allclose(conditional, rtol: 0, atol: 1e-12));
        Assert.True(guidedThree.allclose(unconditional + 3.0 * (conditional - unconditional), rtol: 0, atol: 1e-12));
    }

    [Fact]
    public void Sample_EightSteps_EvaluatesTheModelOncePerGridTimestep()
    {
        // Arrange: an ε-model that records the timesteps it is asked about.
        var asked = new List<long[]>();
        Denoiser recording = (x, t, _) =>
        {
            asked.Add(t.data<long>().ToArray());
            return zeros_like(x);
        };
        var sampler = new DdimSampler(Schedule, steps: 8);

        // Act
        sampler.Sample(recording, [2, 1, 2, 2], new Generator(3));

        // Assert: range(0, 1000, 125) + 1, noisiest first, the whole batch at the same t.
        Assert.Equal(new long[] { 876, 751, 626, 501, 376, 251, 126, 1 }, asked.Select(t => t[0]));
        Assert.All(asked, t => Assert.Equal(t[0], t[1]));
        Assert.Equal(asked.Select(t => (int)t[0]).Reverse(), DdimTimesteps.Uniform(1000, 8));
    }

    sealed record CompVisGrid(int Steps, int[] Timesteps, double[]? Sigmas, string? IndexError);

    [PythonTorchFact]
    public void Constructor_EveryStepCount_MatchesCompVisWhereItsGridStaysBelowTAndRefusesTheRest()
    {
        // Arrange: CompVis's make_ddim_timesteps and make_ddim_sampling_parameters (η = 0.5) for S = 1..1000.
        var json = PythonTorch.Run(PythonTorch.Script("Diffusion/py/ddim_timesteps.py"), "1000", "0.0015", "0.0195", "0.5");
        var reference = JsonSerializer.Deserialize<CompVisGrid[]>(json, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;

        foreach (var grid in reference)
        {
            // Act
            var usable = grid.IndexError is null;
            var sampler = usable ? new DdimSampler(Schedule, grid.Steps, eta: 0.5) : null;

            // Assert
            Assert.Equal(grid.Timesteps, DdimTimesteps.Uniform(1000, grid.Steps));
            Assert.Equal(usable, DdimTimesteps.Problem(1000, grid.Steps) is null);
            if (sampler is null)
            {
                Assert.Throws<ArgumentOutOfRangeException>(() => new DdimSampler(Schedule, grid.Steps, eta: 0.5));
                continue;
            }
            Assert.Equal(grid.Timesteps, sampler.Timesteps);
            for (var i = 0; i < grid.Timesteps.Length; i++)
                Assert.True(Math.Abs(grid.Sigmas![i] - sampler.Sigmas[i]) <= 1e-12 * Math.Abs(grid.Sigmas[i]) + 1e-15,
                    $"S = {grid.Steps}, sigma[{i}]: {grid.Sigmas[i]:R} vs {sampler.Sigmas[i]:R}");
        }
        Assert.Equal(1000, reference.Length);
        Assert.Equal(401, reference.Count(g => g.IndexError is null));
        Assert.Equal(599, reference.Count(g => g.IndexError is not null));
    }

    [Theory]
    [InlineData(3, "use 2 or 4")]
    [InlineData(9, "use 8 or 10")]
    [InlineData(1000, "use 500")]
    public void Constructor_StepsWhoseGridReachesT_ThrowsNamingStepsAndNeighbours(int steps, string neighbours)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new DdimSampler(Schedule, steps: steps));

        Assert.Equal("steps", error.ParamName);
        Assert.Contains(neighbours, error.Message);
    }
}
