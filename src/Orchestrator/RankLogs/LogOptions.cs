namespace SpectralDiffusion.Orchestrator.RankLogs;

/// <summary>
/// The size cap of job logs, per attempt and rank: keys <c>Orchestrator:LogHeadLines</c>, <c>Orchestrator:LogTailLines</c>
/// and <c>Orchestrator:LogLineChars</c>. A rank's first head lines and last tail lines are kept, the middle is counted and
/// dropped, so a rank that floods its log costs at most (head + tail) × line length of storage.
/// </summary>
public sealed class LogOptions
{
    public const int DefaultHeadLines = 1_000, DefaultTailLines = 2_000, DefaultLineChars = 4_096;
    /// <summary>The most lines one shipped batch may carry.</summary>
    public const int MaxBatchLines = 1_000;

    public int LogHeadLines { get; set; } = DefaultHeadLines;
    public int LogTailLines { get; set; } = DefaultTailLines;
    /// <summary>Longer lines are cut to this many characters (and end with "…").</summary>
    public int LogLineChars { get; set; } = DefaultLineChars;

    public IEnumerable<string> Problems()
    {
        if (LogHeadLines is < 0 or > 1_000_000) yield return $"Orchestrator:LogHeadLines is {LogHeadLines}; must be 0..1000000";
        if (LogTailLines is < 1 or > 1_000_000) yield return $"Orchestrator:LogTailLines is {LogTailLines}; must be 1..1000000";
        if (LogLineChars is < 80 or > 65_536) yield return $"Orchestrator:LogLineChars is {LogLineChars}; must be 80..65536";
    }
}
