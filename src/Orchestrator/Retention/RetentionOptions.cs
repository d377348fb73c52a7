namespace SpectralDiffusion.Orchestrator.Retention;

/// <summary>
/// The default retention policy and how often it is applied: keys <c>Orchestrator:RetentionInterval</c>,
/// <c>Orchestrator:RetainCheckpoints</c>, <c>Orchestrator:RetainFinalModel</c>, <c>Orchestrator:RetainEvaluationFiles</c>,
/// <c>Orchestrator:OrphanFileAge</c>. A job's <c>retention</c> spec overrides the first three, field by field.
/// </summary>
public sealed class RetentionOptions
{
    public static readonly TimeSpan DefaultRetentionInterval = TimeSpan.FromHours(1);
    public const int DefaultRetainCheckpoints = 2;
    public static readonly TimeSpan DefaultOrphanFileAge = TimeSpan.FromHours(1);

    /// <summary>Time between background retention passes; 0 turns the background pass off (<c>orchestrator gc</c> still works).</summary>
    public TimeSpan RetentionInterval { get; set; } = DefaultRetentionInterval;
    /// <summary>Complete checkpoints kept per job, newest by step.</summary>
    public int RetainCheckpoints { get; set; } = DefaultRetainCheckpoints;
    public bool RetainFinalModel { get; set; } = true;
    public bool RetainEvaluationFiles { get; set; } = true;
    /// <summary>
    /// A stored file that no database row names is removed once it is this old: the leftover of a pass that stopped
    /// between committing its rows and removing their files, or of an upload whose record was never written. Younger
    /// ones may be uploads in flight.
    /// </summary>
    public TimeSpan OrphanFileAge { get; set; } = DefaultOrphanFileAge;

    public IEnumerable<string> Problems()
    {
        if (RetentionInterval < TimeSpan.Zero) yield return "Orchestrator:RetentionInterval must not be negative (0 turns the background pass off)";
        if (RetainCheckpoints < 0) yield return "Orchestrator:RetainCheckpoints must not be negative";
        if (OrphanFileAge < TimeSpan.FromMinutes(1)) yield return "Orchestrator:OrphanFileAge must be at least one minute (younger files may be uploads in flight)";
    }
}
