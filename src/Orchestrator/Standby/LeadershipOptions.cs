namespace SpectralDiffusion.Orchestrator.Standby;

/// <summary>
/// An active orchestrator and its standbys: keys <c>Orchestrator:AdvertisedAddress</c>, <c>Orchestrator:StandbyPollInterval</c>
/// and <c>Orchestrator:LockCheckInterval</c>.
/// </summary>
public sealed class LeadershipOptions
{
    public static readonly TimeSpan DefaultStandbyPollInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultLockCheckInterval = TimeSpan.FromSeconds(1);
    static readonly TimeSpan MaxInterval = TimeSpan.FromSeconds(10);

    /// <summary>The address clients reach this process at, shown by a standby as "the active one is at …". Empty: this machine's name and the gRPC port.</summary>
    public string AdvertisedAddress { get; set; } = "";
    /// <summary>How often a standby tries to take the lock.</summary>
    public TimeSpan StandbyPollInterval { get; set; } = DefaultStandbyPollInterval;
    /// <summary>How often the active one checks that its lock's session still holds it; it stops acting when the check fails or takes longer than this.</summary>
    public TimeSpan LockCheckInterval { get; set; } = DefaultLockCheckInterval;

    public IEnumerable<string> Problems()
    {
        if (StandbyPollInterval <= TimeSpan.Zero || StandbyPollInterval > MaxInterval)
            yield return $"Orchestrator:StandbyPollInterval is {StandbyPollInterval}; must be positive and at most {MaxInterval}";
        if (LockCheckInterval <= TimeSpan.Zero || LockCheckInterval > MaxInterval)
            yield return $"Orchestrator:LockCheckInterval is {LockCheckInterval}; must be positive and at most {MaxInterval}";
    }
}
