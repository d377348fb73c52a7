namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>An order on a worker's assignment stream, about one attempt of a job.</summary>
public abstract record WorkerOrder(Guid JobId, int Attempt);

/// <summary>
/// Run rank <see cref="Rank"/> of an attempt: the spec as accepted, the rendezvous its ranks meet at, the checkpoint to
/// resume from (null for a fresh start), and the artifacts holding the model's and the teacher's weights ("" where none).
/// </summary>
public sealed record StartOrder(Guid JobId, int Attempt, int Rank, int WorldSize, Guid RendezvousId, byte[] EncodedSpec,
    CheckpointManifest? ResumeFrom, string ModelArtifact, string TeacherArtifact) : WorkerOrder(JobId, Attempt);

/// <summary>Stop the attempt on this rank, because it failed elsewhere, lost a worker or was cancelled.</summary>
public sealed record AbortOrder(Guid JobId, int Attempt, string Reason, bool Cancelled) : WorkerOrder(JobId, Attempt);
