using System.Threading.Channels;
using Serilog;
using SpectralDiffusion.Shared.Contracts.V1;
using static SpectralDiffusion.Worker.Agent.LifecycleEvent;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>Where the attempt lifecycle of one registration stands.</summary>
public enum AttemptState
{
    /// <summary>No attempt: the next start order runs.</summary>
    Idle,
    /// <summary>An attempt was started and its rank is joining its group.</summary>
    Starting,
    /// <summary>The attempt's job runs.</summary>
    Running,
    /// <summary>The attempt was aborted and winds down; a start order that comes meanwhile runs after it.</summary>
    Aborting,
    /// <summary>The agent stops: the attempt finishes its step (within <see cref="AttemptLifecycle.StopGrace"/>); no new attempt.</summary>
    Stopping,
    /// <summary>Done with this registration: see <see cref="AttemptLifecycle.End"/> and <see cref="AttemptLifecycle.Failure"/>.</summary>
    Stopped,
}

/// <summary>How a registration's session ends once the lifecycle is <see cref="AttemptState.Stopped"/>.</summary>
public enum SessionEnd
{
    /// <summary>Stopped or done with its attempts: deregister, then leave.</summary>
    Deregister,
    /// <summary>The registration was lost: register again (unless <see cref="AttemptLifecycle.Failure"/> says to stop).</summary>
    Renew,
}

/// <summary>
/// The lifecycle of the attempts of one registration, one at a time, as a plain state machine: the assignment stream,
/// the runner, the heartbeat and the agent's stop post <see cref="LifecycleEvent"/>s, and <see cref="ExecuteAsync"/>
/// applies one of them. An attempt never runs twice: a repeated start order of the attempt this worker runs is ignored,
/// and one of an attempt it finished has its result delivered again. A stop lets the attempt finish its step, and gives
/// up on it after <see cref="StopGrace"/>; a lost registration aborts it.
/// </summary>
public sealed class AttemptLifecycle(IAttemptRunner runner, TimeProvider time, ILogger log, int? attemptLimit = null)
{
    /// <summary>How long a stopping attempt may take to finish its step and report it before the worker deregisters without it.</summary>
    public static readonly TimeSpan DefaultStopGrace = TimeSpan.FromSeconds(10);

    readonly Channel<LifecycleEvent> inbox = Channel.CreateUnbounded<LifecycleEvent>(new UnboundedChannelOptions { SingleReader = true });
    AssignmentStart? lastOrder;
    AttemptResult? lastResult;
    AssignmentStart? waiting;
    ITimer? grace;
    bool lost;
    Task redelivery = Task.CompletedTask;

    public TimeSpan StopGrace { get; init; } = DefaultStopGrace;
    public AttemptState State { get; private set; } = AttemptState.Idle;
    public SessionEnd End => lost ? SessionEnd.Renew : SessionEnd.Deregister;
    /// <summary>Why the agent must stop instead of registering again; null when it need not.</summary>
    public Exception? Failure { get; private set; }
    /// <summary>The attempt that runs or winds down; null when none does.</summary>
    public RunningAttempt? Current { get; private set; }
    public int AttemptsEnded { get; private set; }

    /// <summary>Queues an event; safe from any thread.</summary>
    public void Post(LifecycleEvent e) => inbox.Writer.TryWrite(e);

    /// <summary>Runs iterations until <see cref="AttemptState.Stopped"/>.</summary>
    public async Task RunAsync(CancellationToken cancellation)
    {
        while (State != AttemptState.Stopped) await ExecuteAsync(cancellation);
    }

    /// <summary>One iteration: waits for the next event and applies it.</summary>
    public async Task ExecuteAsync(CancellationToken cancellation) => Apply(await inbox.Reader.ReadAsync(cancellation));

    /// <summary>Waits for an attempt still winding down after <see cref="AttemptState.Stopped"/>, and for results being delivered again.</summary>
    public async Task DrainAsync()
    {
        if (Current is { } attempt)
        {
            await ((Task)attempt.Outcome).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            attempt.Dispose();
            Current = null;
        }
        await redelivery;
    }

    void Apply(LifecycleEvent e)
    {
        if (State == AttemptState.Stopped) return;
        switch (e)
        {
            case StartOrdered start: OnStart(start.Order); break;
            case AbortOrdered abort: OnAbort(abort.Order); break;
            case AttemptStarted started when started.Attempt == Current && State == AttemptState.Starting: State = AttemptState.Running; break;
            case AttemptEnded ended when ended.Attempt == Current: OnEnded(ended.Attempt, ended.Result); break;
            case StopRequested: OnStop(); break;
            case SessionLost session: OnSessionLost(session.Failure); break;
            case StopGraceExpired expired when expired.Attempt == Current && State == AttemptState.Stopping: OnGraceExpired(expired.Attempt); break;
        }
    }

    void OnStart(AssignmentStart order)
    {
        if (State == AttemptState.Stopping) return;   // no new attempt
        if (lastOrder is not null && order.JobId == lastOrder.JobId && order.Attempt == lastOrder.Attempt)
        {
            // A reopened stream repeats the order of the attempt this worker runs or ran: it never runs twice. A finished
            // one's result is sent again (harmless if it arrived; needed if an outage lost it).
            if (Current is null && lastResult is { } result) redelivery = Task.WhenAll(redelivery, runner.DeliverAsync(result));
            return;
        }
        switch (State)
        {
            case AttemptState.Idle:
                Begin(order);
                break;
            case AttemptState.Aborting:
                waiting = order;   // the previous attempt was aborted and is winding down: its successor waits for it
                break;
            default:
                log.Warning("Ignoring assignment of job {JobId}: attempt {Attempt} of job {Running} is still running", order.JobId, Current?.Order.Attempt, Current?.Order.JobId);
                break;
        }
    }

    void Begin(AssignmentStart order)
    {
        var attempt = new RunningAttempt(order, Post);
        (lastOrder, lastResult, Current, State) = (order, null, attempt, AttemptState.Starting);
        attempt.Outcome = runner.RunAsync(attempt);
        attempt.Outcome.ContinueWith(run =>
        {
            if (run.Exception is { } error) log.Error(error, "Attempt {Attempt} of job {JobId} ended with an error", order.Attempt, order.JobId);
            Post(new AttemptEnded(attempt, run.IsCompletedSuccessfully ? run.Result : null));
        }, TaskScheduler.Default);
    }

    void OnAbort(AssignmentAbort order)
    {
        if (Current is not { } attempt || !attempt.Is(order.JobId, order.Attempt)) return;
        log.Warning("Abort of job {JobId} attempt {Attempt}: {Reason}", order.JobId, order.Attempt, order.Reason);
        attempt.Abort();
        if (State is AttemptState.Starting or AttemptState.Running) State = AttemptState.Aborting;
    }

    void OnEnded(RunningAttempt attempt, AttemptResult? result)
    {
        attempt.Dispose();
        Current = null;
        lastResult = result;
        AttemptsEnded++;
        grace?.Dispose();
        var next = waiting;
        waiting = null;
        if (State == AttemptState.Stopping || lost || AttemptsEnded == attemptLimit) State = AttemptState.Stopped;
        else if (next is not null) Begin(next);
        else State = AttemptState.Idle;
    }

    void OnStop()
    {
        if (State == AttemptState.Stopping) return;
        if (Current is not { } attempt)
        {
            State = AttemptState.Stopped;
            return;
        }
        // The trainer sees the cancelled token, finishes its step, reports it and returns.
        State = AttemptState.Stopping;
        waiting = null;
        attempt.Stop();
        grace = time.CreateTimer(_ => Post(new StopGraceExpired(attempt)), null, StopGrace, Timeout.InfiniteTimeSpan);
    }

    void OnSessionLost(Exception? failure)
    {
        lost = true;
        Failure ??= failure;
        waiting = null;
        if (Current is not { } attempt)
        {
            State = AttemptState.Stopped;
            return;
        }
        attempt.Abort();   // an attempt running in a lost session is aborted
        if (State != AttemptState.Stopping) State = AttemptState.Aborting;
    }

    void OnGraceExpired(RunningAttempt attempt)
    {
        log.Warning("Attempt {Attempt} of job {JobId} did not end within {Grace} of the stop; aborting it and leaving",
            attempt.Order.Attempt, attempt.Order.JobId, StopGrace);
        attempt.Abort();
        State = AttemptState.Stopped;   // the agent deregisters and ends the session, which ends the attempt's calls; DrainAsync waits for it
    }
}
