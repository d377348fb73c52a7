using System.Net;

namespace SpectralDiffusion.Orchestrator.Security;

/// <summary>
/// Who may call: keys <c>Orchestrator:WorkerToken</c> and <c>Orchestrator:ApiKeys</c>, and <c>Orchestrator:Host</c>, the
/// address the server binds (Kestrel listens there), which decides whether those secrets are required.
/// </summary>
public sealed class SecurityOptions
{
    public const string DefaultHost = "127.0.0.1";

    /// <summary>Address to bind: 127.0.0.1 (default, local use), 0.0.0.0 or a specific address.</summary>
    public string Host { get; set; } = DefaultHost;
    /// <summary>Token workers present in <c>x-worker-token</c>. Required unless the server binds loopback only.</summary>
    public string WorkerToken { get; set; } = "";
    /// <summary>Client API keys (<c>x-api-key</c>) with their role. Required unless the server binds loopback only.</summary>
    public List<ApiKeyOptions> ApiKeys { get; set; } = [];

    public bool BindsLoopbackOnly => Host is "localhost" || (IPAddress.TryParse(Host, out var address) && IPAddress.IsLoopback(address));

    public IEnumerable<string> Problems()
    {
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
