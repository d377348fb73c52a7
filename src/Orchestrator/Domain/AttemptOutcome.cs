namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>
/// How one rank's attempt ended: succeeded with its final model artifact (rank 0; "" otherwise), or failed with an error
/// that is <see cref="Permanent"/> when no retry can pass it (a bad spec, corrupt weights) and transient otherwise.
/// </summary>
public sealed record AttemptOutcome(Guid WorkerId, Guid JobId, int Attempt, int Rank, bool Succeeded, string Error, bool Permanent,
    string FinalArtifact);
