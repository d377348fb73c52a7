using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Evaluation;

/// <summary>Mean μ and covariance Σ (N − 1 in the denominator) of a feature set, in float64.</summary>
public sealed record GaussianStatistics(double[] Mean, double[,] Covariance, long Count)
{
    public int Dimension => Mean.Length;
}

/// <summary>
/// Accumulates features batch by batch in float64 (sums shifted by the first batch's mean, for accuracy) and yields their
/// Gaussian statistics, without holding every feature in memory.
/// </summary>
public sealed class FeatureStatisticsAccumulator(int dimension)
{
    readonly double[] sum = new double[dimension];
    readonly double[,] outer = new double[dimension, dimension];
    double[]? shift;
    long count;

    public long Count => count;

    /// <summary>Adds a (B, D) batch of features.</summary>
    public void Add(Tensor features)
    {
        if (features.dim() != 2 || features.shape[1] != dimension)
            throw new ArgumentException($"expected (B, {dimension}) features, got [{string.Join(", ", features.shape)}]", nameof(features));
        using var scope = NewDisposeScope();
        var x = features.detach().to(ScalarType.Float64).cpu();
        shift ??= x.mean([0]).data<double>().ToArray();
        var centred = x - tensor(shift, ScalarType.Float64);
        var batchSum = centred.sum([0]).data<double>().ToArray();
        var batchOuter = centred.t().matmul(centred).contiguous().data<double>().ToArray();
        for (var i = 0; i < dimension; i++)
        {
            sum[i] += batchSum[i];
            for (var j = 0; j < dimension; j++) outer[i, j] += batchOuter[i * dimension + j];
        }
        count += x.shape[0];
    }

    public GaussianStatistics ToStatistics()
    {
        if (count < 2) throw new InvalidOperationException($"a covariance needs at least 2 samples, got {count}");
        var meanShifted = sum.Select(s => s / count).ToArray();
        var covariance = new double[dimension, dimension];
        for (var i = 0; i < dimension; i++)
        for (var j = 0; j < dimension; j++)
            covariance[i, j] = (outer[i, j] - count * meanShifted[i] * meanShifted[j]) / (count - 1);
        return new GaussianStatistics(meanShifted.Select((m, i) => m + shift![i]).ToArray(), covariance, count);
    }
}
