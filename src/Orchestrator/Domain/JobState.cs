namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>
/// Where a job stands: QUEUED → SCHEDULED → RUNNING → SUCCEEDED | FAILED | CANCELLED (see <see cref="Job"/>). Stored by
/// name (<see cref="JobStates"/>); the numbers are the wire's, which adds an unspecified zero that no job is ever in.
/// </summary>
public enum JobState
{
    Queued = 1,
    Scheduled = 2,
    Running = 3,
    Succeeded = 4,
    Failed = 5,
    Cancelled = 6,
}
