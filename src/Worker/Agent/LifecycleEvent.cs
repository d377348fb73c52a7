using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>
/// What the attempt lifecycle reacts to: the orchestrator's orders from the assignment stream, the runner's signals, the
/// agent's stop, the loss of the registration, and a stop's grace running out. Whoever observes one posts it
/// (<see cref="AttemptLifecycle.Post"/>); the lifecycle alone decides what it means.
/// </summary>
public abstract record LifecycleEvent
{
    /// <summary>Run a rank of an attempt. A reopened stream repeats the order of the attempt this worker runs or ran.</summary>
    public sealed record StartOrdered(AssignmentStart Order) : LifecycleEvent;

    /// <summary>Abort an attempt now (a peer was lost, the job was cancelled).</summary>
    public sealed record AbortOrdered(AssignmentAbort Order) : LifecycleEvent;

    /// <summary>The rank joined its group and its job runs.</summary>
    public sealed record AttemptStarted(RunningAttempt Attempt) : LifecycleEvent;

    /// <summary>The rank returned: its delivered result, or null when it was stopped or aborted.</summary>
    public sealed record AttemptEnded(RunningAttempt Attempt, AttemptResult? Result) : LifecycleEvent;

    /// <summary>The agent is stopping (SIGTERM): the attempt finishes its step, then the worker deregisters.</summary>
    public sealed record StopRequested : LifecycleEvent;

    /// <summary>
    /// The registration is gone: the attempt is aborted and the agent registers again, or, when <paramref name="Failure"/>
    /// is set (refused credentials, an orchestrator that keeps failing), stops with that error.
    /// </summary>
    public sealed record SessionLost(Exception? Failure) : LifecycleEvent;

    /// <summary>A stopping attempt did not end within <see cref="AttemptLifecycle.StopGrace"/>.</summary>
    public sealed record StopGraceExpired(RunningAttempt Attempt) : LifecycleEvent;
}
