namespace SpectralDiffusion.Orchestrator.Artifacts;

/// <summary>What an uploaded artifact is: one rank's shard of a checkpoint, a job's final model, or a file (a plot, a sample grid).</summary>
public enum ArtifactUploadKind
{
    CheckpointShard = 1,
    Model = 2,
    File = 3,
}

/// <summary>
/// What an upload announces before its content. <see cref="Kind"/> is null when the sender named none and
/// <see cref="JobId"/> is as sent ("" for none); <see cref="ArtifactIntake"/> checks both, naming the header's field.
/// </summary>
public sealed record ArtifactUpload(ArtifactUploadKind? Kind, string JobId, int Attempt, int Rank, int WorldSize, long Step, string Sha256,
    long Size, string Name);

/// <summary>A recorded upload: its artifact reference and, for a checkpoint shard, the manifest's id once complete and whether this shard completed it.</summary>
public sealed record UploadReceipt(string Artifact, Guid? CheckpointId, bool CheckpointComplete);
