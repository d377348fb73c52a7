namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>
/// A registered worker as listed: its state (<c>idle</c>, <c>busy</c>, <c>lost</c>, <c>gone</c>), the job and rank it runs
/// (null and 0 when none), its lease and labels.
/// </summary>
public sealed record WorkerInfo(Guid Id, string Name, string Node, DeviceKind Device, int DeviceIndex, string State, Guid? JobId, int Rank,
    DateTime LeaseExpiresAt, IReadOnlyDictionary<string, string> Labels);
