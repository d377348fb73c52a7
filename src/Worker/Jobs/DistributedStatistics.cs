using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Evaluation;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>Combines per-rank evaluation statistics over the collective, so every rank holds the statistics of all samples.</summary>
public static class DistributedStatistics
{
    /// <summary>
    /// Pools Gaussian feature statistics: μ = Σ n_r μ_r / n and Σ = (Σ_r (n_r − 1) Σ_r + Σ_r n_r (μ_r − μ)(μ_r − μ)ᵀ) / (n − 1)
    /// (the parallel-variance identity), in float64.
    /// </summary>
    public static GaussianStatistics Pool(ICollective? collective, GaussianStatistics local)
    {
        if (collective is null || collective.WorldSize == 1) return local;
        var d = local.Dimension;
        var world = collective.WorldSize;
        // Per-rank slots gather every rank's (n_r, μ_r); the scatter matrices sum directly.
        using var slots = zeros(world, d + 1, dtype: ScalarType.Float64);
        slots[collective.Rank, 0] = tensor((double)local.Count);
        slots[collective.Rank].narrow(0, 1, d).copy_(tensor(local.Mean, ScalarType.Float64));
        collective.AllReduceSum(slots);
        using var scatter = tensor(Flatten(local.Covariance), ScalarType.Float64).reshape(d, d) * (local.Count - 1);
        collective.AllReduceSum(scatter);

        var counts = slots.select(1, 0);
        var means = slots.narrow(1, 1, d);
        var n = counts.sum().item<double>();
        var mean = (counts.unsqueeze(1) * means).sum(0) / n;
        var deviations = means - mean;
        var between = (deviations.t() * counts).matmul(deviations);
        var covariance = (scatter + between) / (n - 1);
        return new GaussianStatistics(mean.data<double>().ToArray(), To2d(covariance.contiguous().data<double>().ToArray(), d), (long)n);
    }

    /// <summary>Sums the spectrum statistics of every rank into one.</summary>
    public static SpectrumStatistics Pool(ICollective? collective, SpectrumStatistics local)
    {
        if (collective is null || collective.WorldSize == 1) return local;
        using var packed = tensor(local.Pack(), ScalarType.Float64);
        collective.AllReduceSum(packed);
        return SpectrumStatistics.Unpack(packed.data<double>().ToArray(), local.Height, local.Width);
    }

    static double[] Flatten(double[,] matrix)
    {
        var flat = new double[matrix.Length];
        Buffer.BlockCopy(matrix, 0, flat, 0, flat.Length * sizeof(double));
        return flat;
    }

    static double[,] To2d(double[] flat, int d)
    {
        var matrix = new double[d, d];
        Buffer.BlockCopy(flat, 0, matrix, 0, flat.Length * sizeof(double));
        return matrix;
    }
}
