using Npgsql;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;

namespace SpectralDiffusion.Orchestrator.Sweeps;

/// <summary>The sweeps table and the sweep columns of jobs (sweep_id, sweep_arm, sweep_seed).</summary>
public static class SweepRepository
{
    public static Task InsertAsync(NpgsqlConnection connection, Guid id, SweepSpecDocument spec, IReadOnlyList<string> arms, CancellationToken cancellation) =>
        connection.ExecuteAsync("""
            INSERT INTO sweeps (id, name, spec, spec_json, arms) VALUES (@id, @name, @spec, @spec_json, @arms)
            """, cancellation, ("id", id), ("name", spec.Name), ("spec", spec.Encoded),
            ("spec_json", SqlExtensions.Jsonb(spec.Json)), ("arms", arms.ToArray()));

    /// <summary>Marks the sweep cancelled (locking its row); false when it does not exist.</summary>
    public static async Task<bool> MarkCancelledAsync(NpgsqlConnection connection, Guid id, string reason, CancellationToken cancellation) =>
        await connection.ExecuteAsync("""
            UPDATE sweeps SET cancelled_at = coalesce(cancelled_at, now()), cancel_reason = CASE WHEN cancelled_at IS NULL THEN @reason ELSE cancel_reason END
            WHERE id = @id
            """, cancellation, ("id", id), ("reason", reason)) == 1;

    /// <summary>The sweep's jobs that have not ended, in creation order (the order they are locked in).</summary>
    public static Task<List<Guid>> LiveJobsAsync(NpgsqlConnection connection, Guid id, CancellationToken cancellation) =>
        connection.QueryAsync("""
            SELECT id FROM jobs WHERE sweep_id = @id AND state NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED') ORDER BY seq
            """, r => r.GetGuid(0), cancellation, ("id", id));

    public static async Task<SweepRecord?> GetAsync(NpgsqlConnection connection, Guid id, CancellationToken cancellation) =>
        (await ReadAsync(connection, "WHERE s.id = @id", 1, cancellation, ("id", id))).FirstOrDefault();

    /// <summary>Newest first.</summary>
    public static Task<List<SweepRecord>> ListAsync(NpgsqlConnection connection, int limit, CancellationToken cancellation) =>
        ReadAsync(connection, "", limit, cancellation);

    static async Task<List<SweepRecord>> ReadAsync(NpgsqlConnection connection, string where, int limit, CancellationToken cancellation,
        params (string Name, object? Value)[] parameters)
    {
        var sweeps = await connection.QueryAsync($"""
            SELECT s.id, s.arms, s.created_at, s.cancelled_at, s.cancel_reason, s.spec, s.spec_json::text, s.name,
                   ARRAY(SELECT seed::bigint FROM jsonb_array_elements_text(s.spec_json -> 'seeds') WITH ORDINALITY AS e (seed, n) ORDER BY n)
            FROM sweeps s {where} ORDER BY s.seq DESC LIMIT @limit
            """, r => (Id: r.GetGuid(0), Arms: r.GetFieldValue<string[]>(1), Created: r.GetDateTime(2), Cancelled: r.NullableDateTime(3),
                Reason: r.GetString(4),
                // The seeds are read from the JSON copy, which writes int64 values as strings, in spec order.
                Spec: new SweepSpecDocument(r.GetFieldValue<byte[]>(5), r.GetString(6), r.GetString(7), r.GetFieldValue<long[]>(8))),
            cancellation, [.. parameters, ("limit", limit)]);
        var jobs = await connection.QueryAsync("""
            SELECT j.sweep_id, j.id, j.sweep_arm, j.sweep_seed, j.state,
                   ARRAY(SELECT DISTINCT d.sweep_arm FROM jobs d WHERE d.id = ANY(j.depends_on) AND d.sweep_id = j.sweep_id)
            FROM jobs j WHERE j.sweep_id = ANY(@ids) ORDER BY j.seq
            """, r => (Sweep: r.GetGuid(0), Job: new SweepJobRecord(r.GetGuid(1), r.GetString(2), r.GetInt64(3), JobStates.Parse(r.GetString(4)),
                r.GetFieldValue<string[]>(5))),
            cancellation, ("ids", sweeps.Select(s => s.Id).ToArray()));
        return sweeps.Select(s => new SweepRecord(s.Id, s.Spec, s.Arms, s.Created, s.Cancelled, s.Reason,
            jobs.Where(j => j.Sweep == s.Id).Select(j => j.Job).ToList())).ToList();
    }
}
