namespace SpectralDiffusion.Orchestrator.Sweeps;

/// <summary>
/// A sweep's spec as the orchestrator keeps it: opaque (<see cref="Encoded"/>, exactly as accepted, and <see cref="Json"/>
/// for SQL), with the fields the orchestrator shows read once where it entered: the name and the seeds every arm runs.
/// </summary>
public sealed record SweepSpecDocument(byte[] Encoded, string Json, string Name, IReadOnlyList<long> Seeds);

/// <summary>A sweep accepted and expanded: its arms in spec order and every job, dependencies first.</summary>
public sealed record SweepPlan(SweepSpecDocument Spec, IReadOnlyList<string> Arms, IReadOnlyList<SweepPlannedJob> Jobs);

/// <summary>One job of an expanded sweep: its id (chosen at expansion, so that jobs of the sweep can name each other), arm and seed.</summary>
public sealed record SweepPlannedJob(Guid Id, string Arm, long Seed, Domain.JobSpecDocument Spec);
