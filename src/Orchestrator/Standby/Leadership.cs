namespace SpectralDiffusion.Orchestrator.Standby;

/// <summary>
/// Whether this process is the active orchestrator: it holds the database's orchestrator lock (<see cref="ActiveLock"/>)
/// and may schedule, judge leases and answer spectral calls. A standby does none of that. Each time the process becomes
/// active a new term starts; <see cref="TermEnded"/> is cancelled the moment the term ends (the lock is lost), which
/// stops the loops. Between losing the lock and knowing who has it the process is suspended: no loop runs, but it still
/// serves calls (<see cref="IsServing"/>), so a PostgreSQL outage, after which this same process usually takes the lock
/// back, costs its workers nothing. Once another orchestrator is seen holding the lock the process is a standby: it
/// refuses calls and breaks off those still open (<see cref="CallsEnded"/>).
/// </summary>
public sealed class Leadership
{
    readonly Lock gate = new();
    TaskCompletionSource activated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    CancellationTokenSource term = Ended();
    CancellationTokenSource calls = Ended();
    volatile bool active;
    volatile bool serving;

    /// <summary>Holds the lock: the loops may run.</summary>
    public bool IsActive => active;
    /// <summary>Active, or suspended (the lock unconfirmed, nobody else seen holding it): calls are answered.</summary>
    public bool IsServing => serving;
    /// <summary>Counts the terms this process has been active; 0 until it first is.</summary>
    public int Term { get; private set; }
    /// <summary>The database's orchestrator term this process took over with (<see cref="Persistence.TermFence"/>); its loops' writes are fenced with it.</summary>
    public long FencingTerm { get; private set; }
    /// <summary>Where the active orchestrator says it serves, as a standby last read it; empty when unknown.</summary>
    public string ActiveAddress { get; set; } = "";

    /// <summary>Cancelled when the current term ends; already cancelled while this process is a standby.</summary>
    public CancellationToken TermEnded
    {
        get { lock (gate) return term.Token; }
    }

    /// <summary>Cancelled when the calls accepted while active must be broken off (another orchestrator holds the lock).</summary>
    public CancellationToken CallsEnded
    {
        get { lock (gate) return calls.Token; }
    }

    /// <summary>Breaks off the calls accepted in earlier terms, so their clients go to the orchestrator that is active now.</summary>
    public void EndCalls()
    {
        CancellationTokenSource ended;
        lock (gate)
        {
            if (active) return;
            serving = false;
            ended = calls;
        }
        ended.Cancel();
    }

    /// <summary>Returns once this process is active (at once when it is).</summary>
    public Task WaitActiveAsync(CancellationToken cancellation)
    {
        lock (gate) return activated.Task.WaitAsync(cancellation);
    }

    /// <summary>Starts a term: the lock is held, the takeover's checks are done and the database's term advanced to <paramref name="fencingTerm"/>.</summary>
    public void Activate(long fencingTerm)
    {
        lock (gate)
        {
            if (active) return;
            FencingTerm = fencingTerm;
            term = new CancellationTokenSource();
            if (calls.IsCancellationRequested) calls = new CancellationTokenSource();
            Term++;
            active = true;
            serving = true;
            activated.TrySetResult();
        }
    }

    /// <summary>Ends the term at once (the lock is lost or given up): the loops stop, calls are still served until
    /// <see cref="EndCalls"/>. False when this process was not active.</summary>
    public bool Deactivate()
    {
        CancellationTokenSource ended;
        lock (gate)
        {
            if (!active) return false;
            active = false;
            activated = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            ended = term;
        }
        ended.Cancel();
        return true;
    }

    static CancellationTokenSource Ended()
    {
        var source = new CancellationTokenSource();
        source.Cancel();
        return source;
    }
}
