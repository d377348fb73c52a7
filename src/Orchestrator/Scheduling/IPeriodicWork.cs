namespace SpectralDiffusion.Orchestrator.Scheduling;

/// <summary>A background concern with a single-iteration <see cref="ExecuteAsync"/>, driven by <see cref="PeriodicLoop{T}"/>.</summary>
public interface IPeriodicWork
{
    string Name { get; }
    /// <summary>Returns after the interval or earlier when there is work.</summary>
    Task WaitAsync(CancellationToken cancellation);
    /// <summary>One iteration; returns how many items it handled.</summary>
    Task<int> ExecuteAsync(CancellationToken cancellation);
}
