using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Shared.Security;

namespace SpectralDiffusion.Orchestrator.Security;

/// <summary>
/// Per-registration worker secrets: <see cref="Issue"/> makes one at Register (only its SHA-256 is stored), and
/// <see cref="AuthenticateAsync"/> checks the id and secret a worker presents (<see cref="WorkerCredentialHeaders"/>).
/// A worker's hash never changes, so verified hashes are kept in memory; a lost or gone worker still authenticates
/// (its calls then get NOT_FOUND "worker gone" from the service, and it registers again).
/// </summary>
public sealed class WorkerCredentials(Database database)
{
    readonly ConcurrentDictionary<Guid, byte[]> hashes = new();

    /// <summary>A new secret (256 random bits, base64url) and the hash to store.</summary>
    public static (string Secret, byte[] Hash) Issue()
    {
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        return (secret, Hash(secret));
    }

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>Keeps the hash of a worker registered by this process, so that its first call needs no lookup.</summary>
    public void Remember(Guid workerId, byte[] hash) => hashes[workerId] = hash;

    /// <summary>The id of the worker whose credential the headers carry. UNAUTHENTICATED when it is missing or wrong; NOT_FOUND for an id never registered.</summary>
    public async Task<Guid> AuthenticateAsync(Metadata headers, CancellationToken cancellation)
    {
        var (idText, secret) = (headers.GetValue(WorkerCredentialHeaders.WorkerId), headers.GetValue(WorkerCredentialHeaders.Secret));
        if (string.IsNullOrEmpty(idText) || string.IsNullOrEmpty(secret))
            throw Unauthenticated($"this call acts as a worker: present the credential Register issued ({WorkerCredentialHeaders.WorkerId} and {WorkerCredentialHeaders.Secret})");
        if (!Guid.TryParse(idText, out var id)) throw Unauthenticated($"{WorkerCredentialHeaders.WorkerId} is not a worker id");
        if (!hashes.TryGetValue(id, out var stored))
        {
            stored = await database.ReadAsync((connection, token) => WorkerRepository.SecretHashAsync(connection, id, token), cancellation)
                     ?? throw new RpcException(new Status(StatusCode.NotFound, $"worker gone: {id} is not registered; register again"));
            if (stored.Length > 0) hashes[id] = stored;
        }
        if (stored.Length == 0 || !CryptographicOperations.FixedTimeEquals(Hash(secret), stored))
            throw Unauthenticated($"{WorkerCredentialHeaders.Secret} is not the secret issued to worker {id}");
        return id;
    }

    static RpcException Unauthenticated(string message) => new(new Status(StatusCode.Unauthenticated, message));

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
