namespace SpectralDiffusion.Shared.Security;

/// <summary>
/// The metadata a registered worker presents on every call after Register: its id and the secret the orchestrator
/// issued for that registration (RegisterWorkerResponse.worker_secret). The shared registration token travels beside them.
/// </summary>
public static class WorkerCredentialHeaders
{
    public const string WorkerId = "x-worker-id";
    public const string Secret = "x-worker-secret";

    /// <summary>The shared registration token (orchestrator option WorkerToken), on Register and every worker call.</summary>
    public const string RegistrationToken = "x-worker-token";
}

/// <summary>The metadata a client (CLI, dashboard user, script) presents: its API key.</summary>
public static class ClientCredentialHeaders
{
    public const string ApiKey = "x-api-key";
}
