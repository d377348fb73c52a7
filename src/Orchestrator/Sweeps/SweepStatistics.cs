namespace SpectralDiffusion.Orchestrator.Sweeps;

/// <summary>Mean and sample standard deviation (N−1; NaN below 2 values) of one metric over the seeds that have it.</summary>
public sealed record MetricStatistics(string Metric, double Mean, double Std, int N);

/// <summary>
/// arm_b − arm_a over the seeds both have: mean difference, its standard error, its 95% interval (Student's t with
/// pairs − 1 degrees of freedom; NaN below 2 pairs), and how many seeds agree in sign.
/// </summary>
public sealed record PairedDifference(string ArmA, string ArmB, string Metric, double MeanDifference, double StandardError, int Pairs, int Agreeing)
{
    double Margin95 => Pairs < 2 ? double.NaN : StudentT.Quantile975(Pairs - 1) * StandardError;
    public double Interval95Low => MeanDifference - Margin95;
    public double Interval95High => MeanDifference + Margin95;
}

/// <summary>The statistics of a sweep report, over seeds.</summary>
public static class SweepStatistics
{
    public static MetricStatistics Summarize(string metric, IReadOnlyCollection<double> values)
    {
        var n = values.Count;
        if (n == 0) return new(metric, double.NaN, double.NaN, 0);
        var mean = values.Average();
        var std = n < 2 ? double.NaN : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (n - 1));
        return new(metric, mean, std, n);
    }

    /// <summary>
    /// Pairs the two arms by seed; the difference is b − a. Standard error = sample std of the differences / sqrt(pairs)
    /// (NaN below 2 pairs). Agreeing: seeds whose difference has the sign of the mean difference.
    /// </summary>
    public static PairedDifference Paired(string armA, string armB, string metric, IReadOnlyDictionary<long, double> a, IReadOnlyDictionary<long, double> b)
    {
        var differences = a.Keys.Where(b.ContainsKey).OrderBy(seed => seed).Select(seed => b[seed] - a[seed]).ToList();
        var summary = Summarize(metric, differences);
        var sign = Math.Sign(summary.N == 0 ? 0 : summary.Mean);
        var standardError = summary.N < 2 ? double.NaN : summary.Std / Math.Sqrt(summary.N);
        return new(armA, armB, metric, summary.Mean, standardError, summary.N, differences.Count(d => Math.Sign(d) == sign));
    }
}
