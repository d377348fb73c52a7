using Npgsql;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>The dashboard's sessions: one row per sign-in, keyed by the hash of its id.</summary>
public static class DashboardSessionRepository
{
    /// <summary>Adds a session, removing those that have ended.</summary>
    public static async Task StartAsync(NpgsqlConnection connection, byte[] idHash, byte[] keyHash, DateTimeOffset now, DateTimeOffset ends,
        CancellationToken cancellation)
    {
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("DELETE FROM dashboard_sessions WHERE ends_at <= $1") { Parameters = { new() { Value = now } } },
                new NpgsqlBatchCommand("INSERT INTO dashboard_sessions (id_hash, key_hash, ends_at) VALUES ($1, $2, $3)")
                {
                    Parameters = { new() { Value = idHash }, new() { Value = keyHash }, new() { Value = ends } },
                },
            },
        };
        await batch.ExecuteNonQueryAsync(cancellation);
    }

    /// <summary>The key hash of the session, or null when there is none or it has ended.</summary>
    public static async Task<byte[]?> KeyHashAsync(NpgsqlConnection connection, byte[] idHash, DateTimeOffset now, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand("SELECT key_hash FROM dashboard_sessions WHERE id_hash = $1 AND ends_at > $2", connection)
        {
            Parameters = { new() { Value = idHash }, new() { Value = now } },
        };
        return await command.ExecuteScalarAsync(cancellation) as byte[];
    }

    public static async Task EndAsync(NpgsqlConnection connection, byte[] idHash, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand("DELETE FROM dashboard_sessions WHERE id_hash = $1", connection)
        {
            Parameters = { new() { Value = idHash } },
        };
        await command.ExecuteNonQueryAsync(cancellation);
    }
}
