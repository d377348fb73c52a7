using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;

namespace SpectralDiffusion.Orchestrator.Coordination;

/// <summary>
/// PyTorch's TCPStore for the ranks of one attempt: a key/value namespace per rendezvous id, with a blocking get. Values
/// are kept in PostgreSQL, so a restarted orchestrator still has them (a rank asks again after the restart and gets
/// what its peer put before it); they are deleted in the transaction that ends the attempt. Waiting is in memory.
/// </summary>
public sealed class RendezvousStore(Database database, RendezvousWaiters waiters)
{
    public const int MaxValueBytes = 64 * 1024;
    public const int MaxKeyLength = 256;

    /// <summary>Sets (or overwrites) a key of a live attempt's rendezvous and wakes every get waiting for it.</summary>
    public async Task PutAsync(Guid rendezvousId, string key, byte[] value, CancellationToken cancellation)
    {
        var stored = await database.TransactAsync((connection, token) => connection.ExecuteAsync("""
            INSERT INTO rendezvous_keys (rendezvous_id, key, value)
            SELECT rendezvous_id, @key, @value FROM attempts WHERE rendezvous_id = @id AND state IN ('scheduled', 'running')
            ON CONFLICT (rendezvous_id, key) DO UPDATE SET value = excluded.value, put_at = now()
            """, token, ("id", rendezvousId), ("key", key), ("value", value)), cancellation);
        if (stored == 0) throw NotLive(rendezvousId);
        waiters.Put(rendezvousId, key, value);
    }

    /// <summary>The key's value, waiting up to <paramref name="timeout"/> for a put (DEADLINE_EXCEEDED naming the key).</summary>
    public async Task<byte[]> GetAsync(Guid rendezvousId, string key, TimeSpan timeout, CancellationToken cancellation)
    {
        var (live, value) = await database.ReadAsync((connection, token) => connection.QuerySingleOrDefaultAsync("""
            SELECT a.state IN ('scheduled', 'running'), k.value
            FROM attempts a LEFT JOIN rendezvous_keys k ON k.rendezvous_id = a.rendezvous_id AND k.key = @key
            WHERE a.rendezvous_id = @id
            """, r => (r.GetBoolean(0), r.IsDBNull(1) ? null : r.GetFieldValue<byte[]>(1)), token, ("id", rendezvousId), ("key", key)),
            cancellation);
        if (!live) throw NotLive(rendezvousId);
        // A put between the read and the wait is not missed: the waiters keep every value put through this process.
        return value ?? await waiters.GetAsync(rendezvousId, key, timeout, cancellation);
    }

    static OrchestratorException NotLive(Guid rendezvousId) => OrchestratorException.NotFound($"rendezvous {rendezvousId} does not belong to a live attempt");
}
