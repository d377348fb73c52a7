using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>Runs this worker's rank of an attempt and delivers its result to the orchestrator (<see cref="AttemptRunner"/>).</summary>
public interface IAttemptRunner
{
    /// <summary>Runs the rank and delivers its result, which it returns; null when the attempt was stopped or aborted.</summary>
    Task<AttemptResult?> RunAsync(RunningAttempt attempt);

    /// <summary>Sends a finished rank's result again (the orchestrator repeated its start order: the result was lost).</summary>
    Task DeliverAsync(AttemptResult result);
}
