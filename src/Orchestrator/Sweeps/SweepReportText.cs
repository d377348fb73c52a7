using System.Globalization;

namespace SpectralDiffusion.Orchestrator.Sweeps;

/// <summary>
/// How a sweep report's numbers read, the same in the terminal and on the dashboard: "0.35 ± 0.0707 (n=2)", an interval
/// "[−0.1, 0.3]", and "n/a" for a value that is undefined (a spread below two seeds).
/// </summary>
public static class SweepReportText
{
    /// <summary>Metrics and their differences; gate values; seconds.</summary>
    public const string MetricFormat = "0.####", GateFormat = "0.###", SecondsFormat = "0";

    /// <summary>"0.123 ± 0.004 (n=3)"; empty without seeds.</summary>
    public static string MeanStd(double mean, double std, int n, string format) =>
        n == 0 ? "" : $"{Number(mean, format)} ± {Number(std, format)} (n={n})";

    public static string MeanStd(MetricStatistics? statistics, string format) =>
        statistics is null ? "" : MeanStd(statistics.Mean, statistics.Std, statistics.N, format);

    /// <summary>"[low, high]", or "n/a" when either end is undefined.</summary>
    public static string Interval(double low, double high, string format) =>
        double.IsFinite(low) && double.IsFinite(high) ? $"[{Number(low, format)}, {Number(high, format)}]" : "n/a";

    public static string Number(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a";
}
