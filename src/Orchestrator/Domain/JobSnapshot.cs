namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>
/// A job as it is read back and shown: the aggregate's state with its times, rank 0's last progress, and the workers of
/// its current attempt by rank. <see cref="EncodedSpec"/> is the spec as accepted (<see cref="JobSpecDocument.Encoded"/>).
/// </summary>
public sealed record JobSnapshot(Guid Id, byte[] EncodedSpec, JobState State, int Attempt, int Restarts, string FailureReason,
    DateTime CreatedAt, DateTime? StartedAt, DateTime? FinishedAt, JobProgress Progress, IReadOnlyList<string> Workers, string ResultArtifact,
    long ResumeStep);

/// <summary>Rank 0's last progress report: the step of the phase, its rate, and the newest value of each metric.</summary>
public sealed record JobProgress(long Step, long TotalSteps, string Phase, double StepsPerSecond, IReadOnlyDictionary<string, double> Metrics);

/// <summary>A change to a job, as its watchers receive it: the job as read after the change, what happened, and when.</summary>
public sealed record JobChange(JobSnapshot Job, string Message, DateTime At);
