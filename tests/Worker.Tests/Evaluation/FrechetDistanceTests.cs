using System.Globalization;
using System.Text.Json;
using SpectralDiffusion.Worker.Evaluation;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Evaluation;

public class FrechetDistanceTests
{
    public FrechetDistanceTests() => TorchRuntime.EnsureLoaded();

    static double[,] Diagonal(params double[] values)
    {
        var matrix = new double[values.Length, values.Length];
        for (var i = 0; i < values.Length; i++) matrix[i, i] = values[i];
        return matrix;
    }

    static GaussianStatistics RandomGaussian(int dimension, int seed)
    {
        var generator = new Generator((ulong)seed);
        var a = randn([dimension, dimension], ScalarType.Float64, generator: generator);
        var covariance = a.matmul(a.t()) / dimension + 0.1 * eye(dimension, dtype: ScalarType.Float64);
        var mean = randn([dimension], ScalarType.Float64, generator: generator);
        var matrix = new double[dimension, dimension];
        var values = covariance.data<double>().ToArray();
        for (var i = 0; i < dimension; i++) for (var j = 0; j < dimension; j++) matrix[i, j] = values[i * dimension + j];
        return new GaussianStatistics(mean.data<double>().ToArray(), matrix, 100);
    }

    [Fact]
    public void Compute_DiagonalGaussians_EqualsClosedForm()
    {
        // Arrange: for commuting diagonal covariances, d² = |Δμ|² + Σ (√a_i − √b_i)².
        var first = new GaussianStatistics([0, 1, 2], Diagonal(1, 4, 9), 10);
        var second = new GaussianStatistics([1, 1, 0], Diagonal(4, 1, 16), 10);
        var expected = (1 + 0 + 4) + Math.Pow(1 - 2, 2) + Math.Pow(2 - 1, 2) + Math.Pow(3 - 4, 2);

        // Act
        var distance = FrechetDistance.Compute(first, second);

        // Assert
        Assert.Equal(expected, distance, 10);
    }

    [Fact]
    public void Compute_SameStatistics_IsZero()
    {
        var gaussian = RandomGaussian(64, 1);

        Assert.Equal(0.0, FrechetDistance.Compute(gaussian, gaussian), 8);
    }

    [PythonTorchFact]
    public void Compute_NonCommutingCovariances_MatchesScipySqrtmReference()
    {
        // Arrange
        var first = RandomGaussian(16, 2);
        var second = RandomGaussian(16, 3);
        static double[][] Rows(double[,] m) => Enumerable.Range(0, m.GetLength(0)).Select(i => Enumerable.Range(0, m.GetLength(1)).Select(j => m[i, j]).ToArray()).ToArray();
        var json = JsonSerializer.Serialize(new { mu1 = first.Mean, mu2 = second.Mean, sigma1 = Rows(first.Covariance), sigma2 = Rows(second.Covariance) });
        using var folder = new TemporaryFolder();
        var script = PythonTorch.Script("Evaluation/py/frechet_reference.py");
        var wrapper = folder.Combine("run.py");
        File.WriteAllText(wrapper, $"import sys, runpy\nsys.stdin = open({JsonSerializer.Serialize(folder.Combine("stats.json"))})\nrunpy.run_path({JsonSerializer.Serialize(script)}, run_name='__main__')\n");
        File.WriteAllText(folder.Combine("stats.json"), json);

        // Act
        var reference = double.Parse(PythonTorch.Run(wrapper).Trim(), CultureInfo.InvariantCulture);
        var distance = FrechetDistance.Compute(first, second);

        // Assert
        Assert.True(Math.Abs(distance - reference) <= 1e-9 * Math.Abs(reference), $"{distance:R} vs scipy {reference:R}");
    }

    [Fact]
    public void Accumulator_SeveralBatches_MatchesCovarianceWithNMinusOne()
    {
        // Arrange
        var features = randn([37, 5], ScalarType.Float64, generator: new Generator(4)) * 3 + 10;
        var accumulator = new FeatureStatisticsAccumulator(5);

        // Act
        accumulator.Add(features[..10]);
        accumulator.Add(features[10..]);
        var statistics = accumulator.ToStatistics();

        // Assert
        var expected = cov(features.t(), correction: 1);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(features[.., i].mean().item<double>(), statistics.Mean[i], 10);
            for (var j = 0; j < 5; j++) Assert.Equal(expected[i, j].item<double>(), statistics.Covariance[i, j], 10);
        }
    }
}
