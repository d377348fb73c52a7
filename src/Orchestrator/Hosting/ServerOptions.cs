namespace SpectralDiffusion.Orchestrator.Hosting;

/// <summary>
/// What Kestrel listens on: keys <c>Orchestrator:Port</c>, <c>Orchestrator:DashboardPort</c>, <c>Orchestrator:MaxMessageBytes</c>
/// and <c>Orchestrator:Tls</c>. The address is <c>Orchestrator:Host</c> (<see cref="Security.SecurityOptions"/>: it decides which secrets are required).
/// </summary>
public sealed class ServerOptions
{
    public const int DefaultPort = 5080;
    public const int DefaultMaxMessageBytes = 4 * 1024 * 1024;
    public const int MinMaxMessageBytes = 64 * 1024;

    /// <summary>Port to bind; 0 picks a free one (tests).</summary>
    public int Port { get; set; } = DefaultPort;
    /// <summary>
    /// Port of the web dashboard (<c>/ui</c>, HTTP/1.1 for browsers: Kestrel cannot serve browsers and clear-text gRPC on one
    /// port). Unset: <see cref="Port"/> + 1, or a free port when <see cref="Port"/> is 0.
    /// </summary>
    public int? DashboardPort { get; set; }
    /// <summary>Largest gRPC message received or sent; larger ones get RESOURCE_EXHAUSTED. Artifacts stream in chunks below it.</summary>
    public int MaxMessageBytes { get; set; } = DefaultMaxMessageBytes;
    public TlsOptions Tls { get; set; } = new();

    public int EffectiveDashboardPort => DashboardPort ?? (Port == 0 ? 0 : Port + 1);

    public IEnumerable<string> Problems()
    {
        if (Port is < 0 or > 65535) yield return $"Orchestrator:Port is {Port}; must be 0..65535";
        if (EffectiveDashboardPort is < 0 or > 65535) yield return $"Orchestrator:DashboardPort is {EffectiveDashboardPort}; must be 0..65535";
        if (EffectiveDashboardPort == Port && Port != 0) yield return $"Orchestrator:DashboardPort is {Port}, the gRPC port; pick another";
        if (MaxMessageBytes < MinMaxMessageBytes) yield return $"Orchestrator:MaxMessageBytes is {MaxMessageBytes}; must be at least {MinMaxMessageBytes}";
        if (!string.IsNullOrEmpty(Tls.CertificatePath) && !File.Exists(Tls.CertificatePath))
            yield return $"Orchestrator:Tls:CertificatePath '{Tls.CertificatePath}' does not exist";
    }
}

public sealed class TlsOptions
{
    /// <summary>A .pfx, or a PEM certificate with <see cref="KeyPath"/>. Empty: plain HTTP/2.</summary>
    public string CertificatePath { get; set; } = "";
    public string KeyPath { get; set; } = "";
    public string Password { get; set; } = "";
}
