using System.Net;
using Microsoft.Extensions.Options;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Hosting;

/// <summary>Everything under the <c>Orchestrator</c> configuration section (appsettings, <c>Orchestrator__X</c> env vars, <c>--Orchestrator:X=</c>).</summary>
public sealed class OrchestratorOptions
{
    public const string Section = "Orchestrator";
    public static readonly TimeSpan DefaultLease = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultHeartbeatInterval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultSchedulerInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultWatchdogInterval = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan DefaultRendezvousTimeout = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan DefaultReserveAfter = TimeSpan.FromMinutes(2);
    public const int DefaultPort = 5080;
    public const int DefaultMaxSweepJobs = 256;
    public const int DefaultMaxMessageBytes = 4 * 1024 * 1024;

    /// <summary>Npgsql connection string of the orchestrator's database (created if missing, migrated at start-up).</summary>
    public string Database { get; set; } = "Host=127.0.0.1;Port=55432;Username=postgres;Database=spectral";
    /// <summary>Address to bind: 127.0.0.1 (default, local use), 0.0.0.0 or a specific address.</summary>
    public string Host { get; set; } = "127.0.0.1";
    /// <summary>Port to bind; 0 picks a free one (tests).</summary>
    public int Port { get; set; } = DefaultPort;
    /// <summary>
    /// Port of the web dashboard (<c>/ui</c>, HTTP/1.1 for browsers: Kestrel cannot serve browsers and clear-text gRPC on one
    /// port). Unset: <see cref="Port"/> + 1, or a free port when <see cref="Port"/> is 0.
    /// </summary>
    public int? DashboardPort { get; set; }

    public int EffectiveDashboardPort => DashboardPort ?? (Port == 0 ? 0 : Port + 1);
    /// <summary>Folder of the content-addressed artifact store.</summary>
    public string ArtifactRoot { get; set; } = ".local/artifacts";
    /// <summary>Token workers present in <c>x-worker-token</c>. Required unless the server binds loopback only.</summary>
    public string WorkerToken { get; set; } = "";
    /// <summary>Client API keys (<c>x-api-key</c>) with their role. Required unless the server binds loopback only.</summary>
    public List<ApiKeyOptions> ApiKeys { get; set; } = [];
    public TlsOptions Tls { get; set; } = new();
    public int MaxWorldSize { get; set; } = JobSpecValidator.DefaultMaxWorldSize;
    /// <summary>The most jobs one sweep may expand into (arms × seeds); a larger grid is refused before any job is created.</summary>
    public int MaxSweepJobs { get; set; } = DefaultMaxSweepJobs;
    /// <summary>Absolute folders under which a job spec may name absolute paths (mounted alike on every worker); see <see cref="SpecPathRules"/>.</summary>
    public List<string> DataRoots { get; set; } = [];
    /// <summary>Largest gRPC message received or sent; larger ones get RESOURCE_EXHAUSTED. Artifacts stream in chunks below it.</summary>
    public int MaxMessageBytes { get; set; } = DefaultMaxMessageBytes;
    /// <summary>A worker that does not heartbeat within this is lost.</summary>
    public TimeSpan Lease { get; set; } = DefaultLease;
    public TimeSpan HeartbeatInterval { get; set; } = DefaultHeartbeatInterval;
    public TimeSpan SchedulerInterval { get; set; } = DefaultSchedulerInterval;
    public TimeSpan WatchdogInterval { get; set; } = DefaultWatchdogInterval;
    /// <summary>How long a rendezvous Get waits when the request names no timeout.</summary>
    public TimeSpan RendezvousTimeout { get; set; } = DefaultRendezvousTimeout;
    /// <summary>
    /// A queued job that has waited this long without enough free workers reserves its device kind: jobs after it in
    /// priority/FIFO order do not start on that kind until it has (so smaller jobs cannot starve a large one). 0 = at once.
    /// </summary>
    public TimeSpan ReserveAfter { get; set; } = DefaultReserveAfter;

    public bool BindsLoopbackOnly => Host is "localhost" || (IPAddress.TryParse(Host, out var address) && IPAddress.IsLoopback(address));

    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(Database)) yield return "Orchestrator:Database (connection string) is empty";
        if (Port is < 0 or > 65535) yield return $"Orchestrator:Port is {Port}; must be 0..65535";
        if (EffectiveDashboardPort is < 0 or > 65535) yield return $"Orchestrator:DashboardPort is {EffectiveDashboardPort}; must be 0..65535";
        if (EffectiveDashboardPort == Port && Port != 0) yield return $"Orchestrator:DashboardPort is {Port}, the gRPC port; pick another";
        if (string.IsNullOrWhiteSpace(ArtifactRoot)) yield return "Orchestrator:ArtifactRoot is empty";
        if (MaxWorldSize < 1) yield return $"Orchestrator:MaxWorldSize is {MaxWorldSize}; must be at least 1";
        if (MaxSweepJobs < 1) yield return $"Orchestrator:MaxSweepJobs is {MaxSweepJobs}; must be at least 1";
        if (MaxMessageBytes < 64 * 1024) yield return $"Orchestrator:MaxMessageBytes is {MaxMessageBytes}; must be at least 65536";
        if (HeartbeatInterval <= TimeSpan.Zero) yield return "Orchestrator:HeartbeatInterval must be positive";
        if (Lease <= HeartbeatInterval) yield return $"Orchestrator:Lease ({Lease}) must be longer than Orchestrator:HeartbeatInterval ({HeartbeatInterval})";
        if (SchedulerInterval <= TimeSpan.Zero || SchedulerInterval > TimeSpan.FromMinutes(1)) yield return "Orchestrator:SchedulerInterval must be in (0, 1 minute]";
        if (WatchdogInterval <= TimeSpan.Zero || WatchdogInterval > Lease) yield return "Orchestrator:WatchdogInterval must be positive and at most the lease";
        if (RendezvousTimeout <= TimeSpan.Zero) yield return "Orchestrator:RendezvousTimeout must be positive";
        if (ReserveAfter < TimeSpan.Zero) yield return "Orchestrator:ReserveAfter must not be negative";
        if (!BindsLoopbackOnly && string.IsNullOrEmpty(WorkerToken))
            yield return $"Orchestrator:WorkerToken is required when binding {Host} (not loopback)";
        if (!BindsLoopbackOnly && ApiKeys.Count == 0)
            yield return $"Orchestrator:ApiKeys is required when binding {Host} (not loopback)";
        foreach (var (key, index) in ApiKeys.Select((k, i) => (k, i)))
        {
            if (string.IsNullOrEmpty(key.Key)) yield return $"Orchestrator:ApiKeys:{index}:Key is empty";
            if (key.Role is not (ApiKeyOptions.SubmitRole or ApiKeyOptions.ReadRole))
                yield return $"Orchestrator:ApiKeys:{index}:Role is '{key.Role}'; must be '{ApiKeyOptions.SubmitRole}' or '{ApiKeyOptions.ReadRole}'";
        }
        foreach (var (root, index) in DataRoots.Select((r, i) => (r, i)))
            if (!Path.IsPathRooted(root) || root.Split('/').Contains(".."))
                yield return $"Orchestrator:DataRoots:{index} is '{root}'; must be an absolute folder without '..'";
        if (!string.IsNullOrEmpty(Tls.CertificatePath) && !File.Exists(Tls.CertificatePath))
            yield return $"Orchestrator:Tls:CertificatePath '{Tls.CertificatePath}' does not exist";
    }

    public sealed class Validator : IValidateOptions<OrchestratorOptions>
    {
        public ValidateOptionsResult Validate(string? name, OrchestratorOptions options) =>
            options.Problems().ToList() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }
}

public sealed class ApiKeyOptions
{
    public const string SubmitRole = "submit";
    public const string ReadRole = "read";
    public string Key { get; set; } = "";
    /// <summary><c>submit</c> (submit and cancel; implies read) or <c>read</c>.</summary>
    public string Role { get; set; } = ReadRole;
}

public sealed class TlsOptions
{
    /// <summary>A .pfx, or a PEM certificate with <see cref="KeyPath"/>. Empty: plain HTTP/2.</summary>
    public string CertificatePath { get; set; } = "";
    public string KeyPath { get; set; } = "";
    public string Password { get; set; } = "";
}
