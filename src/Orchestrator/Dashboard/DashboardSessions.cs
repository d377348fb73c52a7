using System.Security.Cryptography;
using System.Text;
using SpectralDiffusion.Orchestrator.Persistence;

namespace SpectralDiffusion.Orchestrator.Dashboard;

/// <summary>
/// The dashboard's signed-in sessions, kept in PostgreSQL: a random 256-bit id per sign-in (the cookie's value), stored
/// only as its SHA-256 beside the hash of the key that signed in and when the session ends. Sign-out removes the row,
/// so a cookie copied before it stops working at once; a restart of the orchestrator, or a standby taking over, keeps
/// every session.
/// </summary>
public sealed class DashboardSessions(Database database, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    /// <summary>Starts a session for the key hashing to <paramref name="keyHash"/>; returns its id (and forgets ended sessions).</summary>
    public async Task<string> StartAsync(byte[] keyHash, CancellationToken cancellation)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var now = clock.GetUtcNow();
        await database.StatementAsync(async (connection, token) =>
        {
            await DashboardSessionRepository.StartAsync(connection, Hash(id), keyHash, now, now + Lifetime, token);
            return 0;
        }, cancellation);
        return id;
    }

    /// <summary>The key hash of a live session, or null when <paramref name="id"/> was never started, signed out or ended.</summary>
    public Task<byte[]?> KeyHashAsync(string id, CancellationToken cancellation) =>
        database.ReadAsync((connection, token) => DashboardSessionRepository.KeyHashAsync(connection, Hash(id), clock.GetUtcNow(), token), cancellation);

    public Task EndAsync(string id, CancellationToken cancellation) =>
        database.StatementAsync(async (connection, token) =>
        {
            await DashboardSessionRepository.EndAsync(connection, Hash(id), token);
            return 0;
        }, cancellation);

    static byte[] Hash(string id) => SHA256.HashData(Encoding.ASCII.GetBytes(id));
}
