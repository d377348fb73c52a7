using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>
/// One attempt this worker runs, and the one cancellation source that ends it. <see cref="Ending"/> is cancelled on a
/// stop or an abort: the job ends after its current step. An abort also runs the teardown the runner registered with
/// <see cref="OnAbort"/>, so a rank blocked in an all-reduce with a dead peer returns at once.
/// </summary>
public sealed class RunningAttempt : IDisposable
{
    readonly CancellationTokenSource ending = new();
    readonly Action<LifecycleEvent> post;
    readonly Lock gate = new();
    Action? teardown;
    bool aborted;

    public RunningAttempt(AssignmentStart order, Action<LifecycleEvent> post)
    {
        Order = order;
        this.post = post;
    }

    public AssignmentStart Order { get; }

    /// <summary>Cancelled when the attempt must end: after the current step (stop), or now (abort).</summary>
    public CancellationToken Ending => ending.Token;

    public bool Aborted
    {
        get { lock (gate) return aborted; }
    }

    /// <summary>The runner's task; the lifecycle hears of its end through <see cref="LifecycleEvent.AttemptEnded"/>.</summary>
    internal Task<AttemptResult?> Outcome { get; set; } = Task.FromResult<AttemptResult?>(null);

    public bool Is(string jobId, int attempt) => Order.JobId == jobId && Order.Attempt == attempt;

    /// <summary>Called by the runner once the rank has joined its group and the job runs.</summary>
    public void Started() => post(new LifecycleEvent.AttemptStarted(this));

    /// <summary>Registers what an abort tears down (the collective); run at once when the attempt is already aborted.</summary>
    public void OnAbort(Action tearDown)
    {
        lock (gate)
        {
            if (!aborted)
            {
                teardown += tearDown;
                return;
            }
        }
        tearDown();
    }

    /// <summary>The lifecycle's: end after the current step.</summary>
    public void Stop() => ending.Cancel();

    /// <summary>The lifecycle's: end now, tearing down what the runner registered.</summary>
    public void Abort()
    {
        Action? run;
        lock (gate)
        {
            if (aborted) return;
            aborted = true;
            (run, teardown) = (teardown, null);
        }
        ending.Cancel();
        run?.Invoke();
    }

    public void Dispose() => ending.Dispose();
}
