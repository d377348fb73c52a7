namespace SpectralDiffusion.Orchestrator.Sweeps;

/// <summary>How large a sweep may be: key <c>Orchestrator:MaxSweepJobs</c>.</summary>
public sealed class SweepOptions
{
    public const int DefaultMaxSweepJobs = 256;

    /// <summary>The most jobs one sweep may expand into (arms × seeds); a larger grid is refused before any job is created.</summary>
    public int MaxSweepJobs { get; set; } = DefaultMaxSweepJobs;

    public IEnumerable<string> Problems()
    {
        if (MaxSweepJobs < 1) yield return $"Orchestrator:MaxSweepJobs is {MaxSweepJobs}; must be at least 1";
    }
}
