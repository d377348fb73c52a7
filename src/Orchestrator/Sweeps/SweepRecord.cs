using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Sweeps;

/// <summary>One job of a sweep as stored: arm, seed, state, and the arms whose jobs it waits for.</summary>
public sealed record SweepJobRecord(Guid JobId, string Arm, long Seed, JobState State, IReadOnlyList<string> DependsOnArms);

/// <summary>A stored sweep and its jobs (in creation order: dependencies first). Its state follows from its jobs.</summary>
public sealed record SweepRecord(Guid Id, SweepSpecDocument Spec, IReadOnlyList<string> Arms, DateTime CreatedAt, DateTime? CancelledAt, string CancelReason,
    IReadOnlyList<SweepJobRecord> Jobs)
{
    public SweepState State =>
        CancelledAt is not null ? SweepState.Cancelled
        : Jobs.Any(j => !Job.IsTerminalState(j.State)) ? SweepState.Active
        : Jobs.All(j => j.State == JobState.Succeeded) ? SweepState.Succeeded
        : SweepState.Failed;
}
