namespace SpectralDiffusion.Orchestrator.Delivery;

/// <summary>Wakes the scheduler early when something changed (a job submitted, a worker connected or freed).</summary>
public sealed class SchedulerSignal
{
    readonly SemaphoreSlim signal = new(0, 1);

    public void Nudge()
    {
        try { signal.Release(); }
        catch (SemaphoreFullException) { /* already nudged */ }
    }

    /// <summary>Waits for a nudge or the interval, whichever comes first.</summary>
    public Task WaitAsync(TimeSpan interval, CancellationToken cancellation) => signal.WaitAsync(interval, cancellation);
}
