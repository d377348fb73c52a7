namespace SpectralDiffusion.Orchestrator.Scheduling;

/// <summary>How often the scheduler runs and when a waiting job reserves its device kind: keys <c>Orchestrator:SchedulerInterval</c>, <c>Orchestrator:ReserveAfter</c>.</summary>
public sealed class SchedulerOptions
{
    public static readonly TimeSpan DefaultSchedulerInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultReserveAfter = TimeSpan.FromMinutes(2);
    public static readonly TimeSpan MaxSchedulerInterval = TimeSpan.FromMinutes(1);

    /// <summary>The longest the scheduler waits between passes when nothing signals it.</summary>
    public TimeSpan SchedulerInterval { get; set; } = DefaultSchedulerInterval;
    /// <summary>
    /// A queued job that has waited this long without enough free workers reserves its device kind: jobs after it in
    /// priority/FIFO order do not start on that kind until it has (so smaller jobs cannot starve a large one). 0 = at once.
    /// </summary>
    public TimeSpan ReserveAfter { get; set; } = DefaultReserveAfter;

    public IEnumerable<string> Problems()
    {
        if (SchedulerInterval <= TimeSpan.Zero || SchedulerInterval > MaxSchedulerInterval) yield return "Orchestrator:SchedulerInterval must be in (0, 1 minute]";
        if (ReserveAfter < TimeSpan.Zero) yield return "Orchestrator:ReserveAfter must not be negative";
    }
}
