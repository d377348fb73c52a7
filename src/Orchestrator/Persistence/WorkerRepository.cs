using Npgsql;
using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>
/// The workers table. Leases are compared with the database clock. Heartbeats arrive in batches
/// (<see cref="RenewLeasesAsync"/>, written by the lease watchdog before it judges leases); only the lease watchdog
/// decides that a lease passed, after adding the time it could not watch (<see cref="ForgiveUnwatchedTimeAsync"/>).
/// </summary>
public static class WorkerRepository
{
    public const string Idle = "idle", Busy = "busy", Lost = "lost", Gone = "gone";

    public sealed record Assignment(Guid JobId, int Attempt, int Rank);

    /// <summary>Inserts a live idle worker with the hash of its registration secret; null when a live worker already has the name.</summary>
    public static async Task<(Guid Id, DateTime LeaseExpiresAt)?> RegisterAsync(NpgsqlConnection connection, WorkerRegistration worker,
        byte[] secretHash, TimeSpan lease, CancellationToken cancellation)
    {
        try
        {
            return await connection.QuerySingleOrDefaultAsync<(Guid, DateTime)?>("""
                INSERT INTO workers (id, name, node, device, device_index, address, labels, version, state, lease_expires_at, secret_hash)
                VALUES (@id, @name, @node, @device, @device_index, @address, @labels, @version, 'idle', now() + @lease, @secret_hash)
                RETURNING id, lease_expires_at
                """, r => (r.GetGuid(0), r.GetDateTime(1)), cancellation,
                ("id", Guid.CreateVersion7()), ("name", worker.Name), ("node", worker.Node), ("device", worker.Device),
                ("device_index", worker.DeviceIndex), ("address", worker.Address), ("labels", SqlExtensions.Jsonb(worker.Labels)),
                ("version", worker.Version), ("lease", lease), ("secret_hash", secretHash));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return null;
        }
    }

    /// <summary>
    /// Writes a batch of heartbeats answered from memory, in one statement: each renews its worker's lease from when it
    /// arrived (<c>now() - age</c>, by the database clock). A lease is never shortened, and a worker that is no longer
    /// live is not renewed. A lease that ran out while the watchdog has not yet looked is renewed: right after an outage
    /// the watchdog may not have forgiven it yet. Returns how many leases were renewed.
    /// </summary>
    public static Task<int> RenewLeasesAsync(NpgsqlConnection connection, IReadOnlyList<(Guid WorkerId, TimeSpan Age)> heartbeats,
        TimeSpan lease, CancellationToken cancellation) =>
        heartbeats.Count == 0 ? Task.FromResult(0) : connection.ExecuteAsync("""
            UPDATE workers w SET lease_expires_at = greatest(w.lease_expires_at, now() - h.age + @lease),
                                 last_heartbeat_at = greatest(w.last_heartbeat_at, now() - h.age)
            FROM unnest(@ids, @ages) AS h (id, age)
            WHERE w.id = h.id AND w.state IN ('idle', 'busy')
            """, cancellation, ("ids", heartbeats.Select(h => h.WorkerId).ToArray()), ("ages", heartbeats.Select(h => h.Age).ToArray()),
            ("lease", lease));

    /// <summary>The stored hash of a worker's registration secret, whatever its state; null for an unknown worker, empty for one registered without.</summary>
    public static Task<byte[]?> SecretHashAsync(NpgsqlConnection connection, Guid id, CancellationToken cancellation) =>
        connection.QuerySingleOrDefaultAsync("SELECT secret_hash FROM workers WHERE id = @id",
            r => r.IsDBNull(0) ? [] : r.GetFieldValue<byte[]>(0), cancellation, ("id", id));

    public static async Task<bool> IsLiveAsync(NpgsqlConnection connection, Guid id, CancellationToken cancellation) =>
        await connection.QuerySingleOrDefaultAsync("SELECT true FROM workers WHERE id = @id AND state IN ('idle', 'busy')",
            r => r.GetBoolean(0), cancellation, ("id", id));

    /// <summary>Ends a live worker (lost or gone) and returns what it was running, if anything. Null when it was not live.</summary>
    public static Task<(bool Ended, Assignment? Assignment)> EndAsync(NpgsqlConnection connection, Guid id, string state, string reason,
        CancellationToken cancellation) =>
        connection.QuerySingleOrDefaultAsync("""
            UPDATE workers w SET state = @state, ended_reason = @reason, job_id = NULL, attempt = NULL, rank = NULL
            FROM (SELECT id, job_id, attempt, rank FROM workers WHERE id = @id AND state IN ('idle', 'busy') FOR UPDATE) old
            WHERE w.id = old.id
            RETURNING old.job_id, old.attempt, old.rank
            """, r => (true, r.IsDBNull(0) ? null : new Assignment(r.GetGuid(0), r.GetInt32(1), r.GetInt32(2))), cancellation,
            ("id", id), ("state", state), ("reason", reason));

    /// <summary>
    /// Ticks the lease clock. When the previous tick is more than <paramref name="interval"/> + <paramref name="tolerance"/>
    /// ago, the orchestrator or its database was down and nobody could renew a lease: the time beyond the interval is
    /// added to every live lease, and every live lease runs at least one whole <paramref name="lease"/> from now, because a
    /// worker's first heartbeat after an outage can be late by its channel's reconnect back-off. The first tick of a
    /// process (<paramref name="firstSinceStart"/>) always grants that whole lease: heartbeats the previous process
    /// answered but had not yet written are not in the table. Returns the unwatched time (zero for a first tick without
    /// a gap), or null when nothing was forgiven. Call it, in the same transaction, before <see cref="ExpiredAsync"/>.
    /// </summary>
    public static async Task<TimeSpan?> ForgiveUnwatchedTimeAsync(NpgsqlConnection connection, TimeSpan interval, TimeSpan tolerance,
        TimeSpan lease, bool firstSinceStart, CancellationToken cancellation)
    {
        var sinceLastTick = await connection.QuerySingleOrDefaultAsync<TimeSpan?>(
            "SELECT now() - last_tick FROM lease_clock FOR UPDATE", r => r.GetTimeSpan(0), cancellation);
        await connection.ExecuteAsync("UPDATE lease_clock SET last_tick = now()", cancellation);
        var outage = sinceLastTick is { } gap && gap > interval + tolerance;
        if (!outage && !firstSinceStart) return null;
        var unwatched = outage ? sinceLastTick!.Value - interval : TimeSpan.Zero;
        await connection.ExecuteAsync("""
            UPDATE workers SET lease_expires_at = greatest(lease_expires_at + @unwatched, now() + @lease)
            WHERE state IN ('idle', 'busy')
            """, cancellation, ("unwatched", unwatched), ("lease", lease));
        return unwatched;
    }

    /// <summary>Live workers whose lease passed, by the database clock.</summary>
    public static Task<List<Guid>> ExpiredAsync(NpgsqlConnection connection, CancellationToken cancellation) =>
        connection.QueryAsync("SELECT id FROM workers WHERE state IN ('idle', 'busy') AND lease_expires_at < now()",
            r => r.GetGuid(0), cancellation);

    /// <summary>Locks every free live worker of the given device kinds among <paramref name="connected"/>, oldest first.</summary>
    public static Task<List<(Guid Id, DeviceKind Device)>> ClaimIdleAsync(NpgsqlConnection connection, DeviceKind[] devices, Guid[] connected,
        CancellationToken cancellation) =>
        connection.QueryAsync("""
            SELECT id, device FROM workers
            WHERE state = 'idle' AND device = ANY(@devices) AND lease_expires_at > now() AND id = ANY(@connected)
            ORDER BY registered_at, id
            FOR UPDATE SKIP LOCKED
            """, r => (r.GetGuid(0), JobStates.ParseDevice(r.GetString(1))), cancellation,
            ("devices", devices.Select(JobStates.Name).ToArray()), ("connected", connected));

    /// <summary>Makes the (locked, idle) workers of each new attempt busy with their rank, in one statement.</summary>
    public static async Task AssignManyAsync(NpgsqlConnection connection, IReadOnlyList<AttemptRepository.NewAttempt> attempts, CancellationToken cancellation)
    {
        var ranks = attempts.SelectMany(a => a.WorkersByRank.Select((worker, rank) => (Worker: worker, a.JobId, a.Attempt, Rank: rank))).ToList();
        var updated = await connection.ExecuteAsync("""
            UPDATE workers w SET state = 'busy', job_id = r.job_id, attempt = r.attempt, rank = r.rank
            FROM unnest(@workers, @jobs, @attempts, @ranks) AS r (worker_id, job_id, attempt, rank)
            WHERE w.id = r.worker_id AND w.state = 'idle'
            """, cancellation, ("workers", ranks.Select(r => r.Worker).ToArray()), ("jobs", ranks.Select(r => r.JobId).ToArray()),
            ("attempts", ranks.Select(r => r.Attempt).ToArray()), ("ranks", ranks.Select(r => r.Rank).ToArray()));
        if (updated != ranks.Count)
            throw new InvalidOperationException($"assigning {ranks.Count} ranks found only {updated} of their workers idle; the round is rolled back");
    }

    /// <summary>Frees the live workers still busy with this attempt.</summary>
    public static Task FreeAsync(NpgsqlConnection connection, Guid jobId, int attempt, CancellationToken cancellation) =>
        connection.ExecuteAsync("""
            UPDATE workers SET state = 'idle', job_id = NULL, attempt = NULL, rank = NULL
            WHERE job_id = @job AND attempt = @attempt AND state = 'busy'
            """, cancellation, ("job", jobId), ("attempt", attempt));

    public static Task<Assignment?> AssignmentAsync(NpgsqlConnection connection, Guid id, CancellationToken cancellation) =>
        connection.QuerySingleOrDefaultAsync("SELECT job_id, attempt, rank FROM workers WHERE id = @id AND state = 'busy'",
            r => new Assignment(r.GetGuid(0), r.GetInt32(1), r.GetInt32(2)), cancellation, ("id", id));

    public static Task<List<WorkerInfo>> ListAsync(NpgsqlConnection connection, bool includeGone, CancellationToken cancellation) =>
        connection.QueryAsync("""
            SELECT id, name, node, device, device_index, state, job_id, rank, lease_expires_at, labels::text FROM workers
            WHERE @all OR state IN ('idle', 'busy')
            ORDER BY registered_at
            """, r => new WorkerInfo(r.GetGuid(0), r.GetString(1), r.GetString(2), JobStates.ParseDevice(r.GetString(3)), r.GetInt32(4), r.GetString(5),
                r.IsDBNull(6) ? null : r.GetGuid(6), r.IsDBNull(7) ? 0 : r.GetInt32(7), r.GetDateTime(8), r.JsonMap<string>(9)),
            cancellation, ("all", includeGone));
}
