namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>A sweep's state, which follows from its jobs' (see <c>Sweeps/SweepRecord</c>) unless it was cancelled.</summary>
public enum SweepState
{
    /// <summary>Some job has not ended.</summary>
    Active = 1,
    /// <summary>Every job succeeded.</summary>
    Succeeded = 2,
    /// <summary>Every job ended and some did not succeed.</summary>
    Failed = 3,
    Cancelled = 4,
}
