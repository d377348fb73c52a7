using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace SpectralDiffusion.Orchestrator.Dashboard;

/// <summary>
/// The dashboard's signed-in sessions, held in this process: a random id per sign-in, mapped to the hash of the key that
/// signed in and when the session ends. Sign-out removes the id, so a cookie copied before it stops working at once; a
/// restart of the orchestrator ends every session (sign in again).
/// </summary>
public sealed class DashboardSessions(TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    readonly ConcurrentDictionary<string, (byte[] KeyHash, DateTimeOffset Ends)> sessions = new(StringComparer.Ordinal);

    /// <summary>Starts a session for the key hashing to <paramref name="keyHash"/>; returns its id (and forgets ended sessions).</summary>
    public string Start(byte[] keyHash)
    {
        var now = clock.GetUtcNow();
        foreach (var (id, session) in sessions)
            if (session.Ends <= now) sessions.TryRemove(id, out _);
        var newId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        sessions[newId] = (keyHash, now + Lifetime);
        return newId;
    }

    /// <summary>The key hash of a live session, or null when <paramref name="id"/> was never started, signed out or ended.</summary>
    public byte[]? KeyHash(string id) =>
        sessions.TryGetValue(id, out var session) && session.Ends > clock.GetUtcNow() ? session.KeyHash : null;

    public void End(string id) => sessions.TryRemove(id, out _);
}
