using Google.Protobuf;
using Npgsql;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Sweeps;

/// <summary>The sweeps table and the sweep columns of jobs (sweep_id, sweep_arm, sweep_seed).</summary>
public static class SweepRepository
{
    public static Task InsertAsync(NpgsqlConnection connection, Guid id, SweepSpec spec, IReadOnlyList<string> arms, CancellationToken cancellation) =>
        connection.ExecuteAsync("""
            INSERT INTO sweeps (id, name, spec, spec_json, arms) VALUES (@id, @name, @spec, @spec_json, @arms)
            """, cancellation, ("id", id), ("name", spec.Name), ("spec", spec.ToByteArray()),
            ("spec_json", SqlExtensions.Jsonb(JsonFormatter.Default.Format(spec))), ("arms", arms.ToArray()));

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
            SELECT s.id, s.spec, s.arms, s.created_at, s.cancelled_at, s.cancel_reason FROM sweeps s {where} ORDER BY s.seq DESC LIMIT @limit
            """, r => (Id: r.GetGuid(0), Spec: SweepSpec.Parser.ParseFrom(r.GetFieldValue<byte[]>(1)), Arms: r.GetFieldValue<string[]>(2),
                Created: r.GetDateTime(3), Cancelled: r.NullableDateTime(4), Reason: r.GetString(5)),
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
