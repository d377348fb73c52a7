namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>
/// A stored checkpoint of a job: the step an attempt reached and one shard per rank of its world size, as artifact
/// references (<c>artifact:&lt;sha256&gt;</c>) in rank order. Only complete manifests are stored.
/// </summary>
public sealed record CheckpointManifest(Guid Id, Guid JobId, int Attempt, long Step, int WorldSize, bool Complete, DateTime CreatedAt,
    IReadOnlyList<string> ShardArtifacts);
