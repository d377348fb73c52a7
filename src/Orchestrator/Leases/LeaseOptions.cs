namespace SpectralDiffusion.Orchestrator.Leases;

/// <summary>Worker leases: keys <c>Orchestrator:Lease</c>, <c>Orchestrator:HeartbeatInterval</c>, <c>Orchestrator:WatchdogInterval</c>.</summary>
public sealed class LeaseOptions
{
    public static readonly TimeSpan DefaultLease = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultHeartbeatInterval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultWatchdogInterval = TimeSpan.FromSeconds(2);

    /// <summary>A worker that does not heartbeat within this is lost.</summary>
    public TimeSpan Lease { get; set; } = DefaultLease;
    /// <summary>How often workers are told to heartbeat (given to them at registration).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = DefaultHeartbeatInterval;
    /// <summary>How often the lease watchdog writes renewals and loses expired workers.</summary>
    public TimeSpan WatchdogInterval { get; set; } = DefaultWatchdogInterval;

    public IEnumerable<string> Problems()
    {
        if (HeartbeatInterval <= TimeSpan.Zero) yield return "Orchestrator:HeartbeatInterval must be positive";
        if (Lease <= HeartbeatInterval) yield return $"Orchestrator:Lease ({Lease}) must be longer than Orchestrator:HeartbeatInterval ({HeartbeatInterval})";
        if (WatchdogInterval <= TimeSpan.Zero || WatchdogInterval > Lease) yield return "Orchestrator:WatchdogInterval must be positive and at most the lease";
    }
}
