using System.Net;

namespace SpectralDiffusion.Orchestrator.Security;

/// <summary>
/// Who may call: keys <c>Orchestrator:WorkerToken</c> and <c>Orchestrator:ApiKeys</c>, and <c>Orchestrator:Host</c>, the
/// address the server binds (Kestrel listens there), which decides whether those secrets are required; and how many failed
/// authentications a client address may make (<see cref="FailedAuthentications"/>).
/// </summary>
public sealed class SecurityOptions
{
    public const string DefaultHost = "127.0.0.1";
    /// <summary>The shortest worker token or API key accepted at start: a short secret is guessed, rate limit or not.</summary>
    public const int MinimumSecretLength = 16;

    /// <summary>Address to bind: 127.0.0.1 (default, local use), 0.0.0.0 or a specific address.</summary>
    public string Host { get; set; } = DefaultHost;
    /// <summary>Token workers present in <c>x-worker-token</c>. Required unless the server binds loopback only.</summary>
    public string WorkerToken { get; set; } = "";
    /// <summary>Client API keys (<c>x-api-key</c>) with their role. Required unless the server binds loopback only.</summary>
    public List<ApiKeyOptions> ApiKeys { get; set; } = [];
    /// <summary>Failed authentications one client address may make per <see cref="FailedAuthenticationWindow"/> before it is
    /// refused with RESOURCE_EXHAUSTED (gRPC) or 429 (dashboard), right credential or not, until the window ends.</summary>
    public int FailedAuthenticationLimit { get; set; } = 10;
    public TimeSpan FailedAuthenticationWindow { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>Addresses of reverse proxies in front of the dashboard whose X-Forwarded-Proto and X-Forwarded-For are believed
    /// (none by default): a TLS-terminating proxy listed here makes the dashboard's cookies Secure.</summary>
    public List<string> TrustedProxies { get; set; } = [];

    public bool BindsLoopbackOnly => Host is "localhost" || (IPAddress.TryParse(Host, out var address) && IPAddress.IsLoopback(address));

    public IEnumerable<string> Problems()
    {
        if (!BindsLoopbackOnly && string.IsNullOrEmpty(WorkerToken))
            yield return $"Orchestrator:WorkerToken is required when binding {Host} (not loopback)";
        if (!BindsLoopbackOnly && ApiKeys.Count == 0)
            yield return $"Orchestrator:ApiKeys is required when binding {Host} (not loopback)";
        if (WorkerToken.Length is > 0 and < MinimumSecretLength)
            yield return $"Orchestrator:WorkerToken is {WorkerToken.Length} characters; must be at least {MinimumSecretLength}";
        if (FailedAuthenticationLimit < 1) yield return $"Orchestrator:FailedAuthenticationLimit is {FailedAuthenticationLimit}; must be positive";
        if (FailedAuthenticationWindow <= TimeSpan.Zero)
            yield return $"Orchestrator:FailedAuthenticationWindow is {FailedAuthenticationWindow}; must be positive";
        foreach (var (proxy, index) in TrustedProxies.Select((p, i) => (p, i)))
            if (!IPAddress.TryParse(proxy, out _)) yield return $"Orchestrator:TrustedProxies:{index} '{proxy}' is not an IP address";
        foreach (var (key, index) in ApiKeys.Select((k, i) => (k, i)))
        {
            if (string.IsNullOrEmpty(key.Key)) yield return $"Orchestrator:ApiKeys:{index}:Key is empty";
            else if (key.Key.Length < MinimumSecretLength)
                yield return $"Orchestrator:ApiKeys:{index}:Key is {key.Key.Length} characters; must be at least {MinimumSecretLength}";
            if (key.Role is not (ApiKeyOptions.SubmitRole or ApiKeyOptions.ReadRole))
                yield return $"Orchestrator:ApiKeys:{index}:Role is '{key.Role}'; must be '{ApiKeyOptions.SubmitRole}' or '{ApiKeyOptions.ReadRole}'";
        }
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
