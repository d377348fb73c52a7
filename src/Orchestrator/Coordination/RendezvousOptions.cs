namespace SpectralDiffusion.Orchestrator.Coordination;

/// <summary>Rendezvous waits: key <c>Orchestrator:RendezvousTimeout</c>.</summary>
public sealed class RendezvousOptions
{
    public static readonly TimeSpan DefaultRendezvousTimeout = TimeSpan.FromMinutes(5);

    /// <summary>How long a rendezvous Get waits when the request names no timeout.</summary>
    public TimeSpan RendezvousTimeout { get; set; } = DefaultRendezvousTimeout;

    public IEnumerable<string> Problems()
    {
        if (RendezvousTimeout <= TimeSpan.Zero) yield return "Orchestrator:RendezvousTimeout must be positive";
    }
}
