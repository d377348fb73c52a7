namespace SpectralDiffusion.Orchestrator.Standby;

/// <summary>
/// Whether this process is the active orchestrator: it holds the database's orchestrator lock (<see cref="ActiveLock"/>)
/// and may schedule, judge leases and answer spectral calls. A standby does none of that. Each time the process becomes
/// active a new term starts; <see cref="TermEnded"/> is cancelled the moment the term ends (the lock is lost), which
/// stops the loops and breaks the calls still open.
/// </summary>
public sealed class Leadership
{
    readonly Lock gate = new();
    TaskCompletionSource activated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    CancellationTokenSource term = Ended();
    volatile bool active;

    public bool IsActive => active;
    /// <summary>Counts the terms this process has been active; 0 until it first is.</summary>
    public int Term { get; private set; }
    /// <summary>Where the active orchestrator says it serves, as a standby last read it; empty when unknown.</summary>
    public string ActiveAddress { get; set; } = "";

    /// <summary>Cancelled when the current term ends; already cancelled while this process is a standby.</summary>
    public CancellationToken TermEnded
    {
        get { lock (gate) return term.Token; }
    }

    /// <summary>Returns once this process is active (at once when it is).</summary>
    public Task WaitActiveAsync(CancellationToken cancellation)
    {
        lock (gate) return activated.Task.WaitAsync(cancellation);
    }

    /// <summary>Starts a term: the lock is held and the takeover's checks are done.</summary>
    public void Activate()
    {
        lock (gate)
        {
            if (active) return;
            term = new CancellationTokenSource();
            Term++;
            active = true;
            activated.TrySetResult();
        }
    }

    /// <summary>Ends the term at once (the lock is lost or given up). False when this process was not active.</summary>
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
