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

    /// <summary>
    /// Sets (or overwrites) a key of a live attempt's rendezvous for <paramref name="worker"/>, which must run a rank of
    /// that attempt (PERMISSION_DENIED otherwise, nothing stored), and wakes every get waiting for it.
    /// </summary>
    public async Task PutAsync(Guid rendezvousId, Guid worker, string key, byte[] value, CancellationToken cancellation)
    {
        await RequireRankAsync(rendezvousId, worker, cancellation);
        var stored = await database.TransactAsync((connection, token) => connection.ExecuteAsync("""
            INSERT INTO rendezvous_keys (rendezvous_id, key, value)
            SELECT rendezvous_id, @key, @value FROM attempts WHERE rendezvous_id = @id AND state IN ('scheduled', 'running')
            ON CONFLICT (rendezvous_id, key) DO UPDATE SET value = excluded.value, put_at = now()
            """, token, ("id", rendezvousId), ("key", key), ("value", value)), cancellation);
        if (stored == 0) throw NotLive(rendezvousId);
        waiters.Put(rendezvousId, key, value);
    }

    /// <summary>
    /// The key's value for <paramref name="worker"/>, a rank of the rendezvous's live attempt (PERMISSION_DENIED
    /// otherwise), waiting up to <paramref name="timeout"/> for a put (DEADLINE_EXCEEDED naming the key).
    /// </summary>
    public async Task<byte[]> GetAsync(Guid rendezvousId, Guid worker, string key, TimeSpan timeout, CancellationToken cancellation)
    {
        await RequireRankAsync(rendezvousId, worker, cancellation);
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

    /// <summary>
    /// Refuses unless the rendezvous belongs to a live attempt (NOT_FOUND) that <paramref name="worker"/> runs a rank of
    /// (PERMISSION_DENIED). An attempt's ranks are fixed when it is scheduled, so the answer holds until the attempt ends.
    /// </summary>
    async Task RequireRankAsync(Guid rendezvousId, Guid worker, CancellationToken cancellation)
    {
        var (live, rank) = await database.ReadAsync((connection, token) => connection.QuerySingleOrDefaultAsync("""
            SELECT a.state IN ('scheduled', 'running'),
                   EXISTS (SELECT 1 FROM attempt_ranks r WHERE r.job_id = a.job_id AND r.attempt = a.attempt AND r.worker_id = @worker)
            FROM attempts a WHERE a.rendezvous_id = @id
            """, r => (r.GetBoolean(0), r.GetBoolean(1)), token, ("id", rendezvousId), ("worker", worker)), cancellation);
        if (!live) throw NotLive(rendezvousId);
        if (!rank) throw NotARank(rendezvousId, worker);
    }

    static OrchestratorException NotARank(Guid rendezvousId, Guid worker) => new(OrchestratorErrorKind.PermissionDenied,
        $"rendezvous {rendezvousId}: worker {worker} runs no rank of its attempt; only that attempt's ranks may read or write it");

    static OrchestratorException NotLive(Guid rendezvousId) => OrchestratorException.NotFound($"rendezvous {rendezvousId} does not belong to a live attempt");
}
