using System.Globalization;

namespace SpectralDiffusion.Orchestrator.Dashboard;

/// <summary>How numbers, times and sizes read on the pages (invariant culture, UTC).</summary>
public static class Format
{
    public static string Time(DateTime? utc) => utc is { } t ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "—";

    public static string Duration(TimeSpan? span) => span switch
    {
        null => "—",
        { TotalDays: >= 1 } d => $"{(int)d.TotalDays}d {d.Hours}h",
        { TotalHours: >= 1 } h => $"{(int)h.TotalHours}h {h.Minutes:D2}m",
        { TotalMinutes: >= 1 } m => $"{m.Minutes}m {m.Seconds:D2}s",
        var s => $"{Math.Max(0, (int)Math.Ceiling(s.Value.TotalSeconds))}s",
    };

    public static string Ago(DateTime utc) => Duration(DateTime.UtcNow - utc.ToUniversalTime()) + " ago";

    public static string Number(double? value, string format = "G4") =>
        value is { } v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "—";

    /// <summary>12 345 678 → "12.35M"; for parameter counts and MACs.</summary>
    public static string Count(double? value) => value switch
    {
        null => "—",
        >= 1e9 => (value.Value / 1e9).ToString("0.00", CultureInfo.InvariantCulture) + "G",
        >= 1e6 => (value.Value / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + "M",
        >= 1e3 => (value.Value / 1e3).ToString("0.00", CultureInfo.InvariantCulture) + "k",
        _ => value.Value.ToString("0", CultureInfo.InvariantCulture),
    };

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };

    public static string Percent(double? fraction) => fraction is { } f ? (f * 100).ToString("0", CultureInfo.InvariantCulture) + "%" : "—";
}
