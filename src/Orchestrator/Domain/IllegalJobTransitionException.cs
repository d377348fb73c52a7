namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>A state change the job's current state does not allow (gRPC FAILED_PRECONDITION).</summary>
public sealed class IllegalJobTransitionException(Guid jobId, JobState state, string action)
    : Exception($"job {jobId} is {JobStates.Name(state)}; cannot {action}")
{
    public Guid JobId { get; } = jobId;
    public JobState State { get; } = state;
}
