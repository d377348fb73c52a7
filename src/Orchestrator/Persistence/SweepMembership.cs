namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>Which sweep, arm and seed a job was expanded from.</summary>
public sealed record SweepMembership(Guid SweepId, string Arm, long Seed);
