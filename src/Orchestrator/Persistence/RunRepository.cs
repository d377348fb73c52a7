using Npgsql;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>
/// A run as <c>orchestrator runs</c> and dashboards list it: type and state as stored (<c>TRAIN</c>, <c>SUCCEEDED</c>),
/// the last value of each metric, and the first stage of a latent job (empty in pixel space).
/// </summary>
public sealed record RunRecord(Guid JobId, string Name, string Type, string State, string Preset, string TeacherPreset, int WorldSize,
    int Attempts, long Steps, IReadOnlyDictionary<string, double> FinalMetrics, DateTime CreatedAt, DateTime? FinishedAt,
    string ResultArtifact, string FirstStage);

/// <summary>Run summaries for dashboards and <c>orchestrator runs</c>: every job with its final metrics, newest first.</summary>
public static class RunRepository
{
    /// <summary>The newest runs of <paramref name="type"/> (a stored type name, or empty for all) and <paramref name="preset"/> (empty for all).</summary>
    public static Task<List<RunRecord>> ListAsync(NpgsqlConnection connection, string type, string preset, int limit, CancellationToken cancellation) =>
        connection.QueryAsync("""
            SELECT id, name, type, state, preset, teacher_preset, world_size, attempt, progress_step, progress_metrics::text,
                   created_at, finished_at, result_artifact, coalesce(spec_json -> 'firstStage' ->> 'config', '')
            FROM jobs
            WHERE (@type = '' OR type = @type) AND (@preset = '' OR preset = @preset)
            ORDER BY seq DESC LIMIT @limit
            """, r => new RunRecord(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetInt32(6),
                r.GetInt32(7), r.GetInt64(8), r.JsonMap<double>(9), r.GetDateTime(10), r.NullableDateTime(11), r.GetString(12), r.GetString(13)),
            cancellation, ("type", type), ("preset", preset), ("limit", limit));
}
