using Npgsql;
using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>The evaluations table: FID (when Inception weights were given) and the low/high frequency errors of a model.</summary>
public static class EvaluationRepository
{
    public static Task InsertAsync(NpgsqlConnection connection, EvaluationResult result, CancellationToken cancellation) =>
        connection.ExecuteAsync("""
            INSERT INTO evaluations (job_id, attempt, preset, num_samples, fid, low_frequency_error, high_frequency_error, extra, samples_artifact)
            VALUES (@job, @attempt, @preset, @num_samples, @fid, @low, @high, @extra, @samples)
            """, cancellation, ("job", result.JobId), ("attempt", result.Attempt), ("preset", result.Preset), ("num_samples", result.NumSamples),
            ("fid", result.Fid is { } fid ? fid : DBNull.Value), ("low", result.LowFrequencyError), ("high", result.HighFrequencyError),
            ("extra", SqlExtensions.Jsonb(result.Extra)), ("samples", result.SamplesArtifact));

    public static Task<List<EvaluationRecord>> ListAsync(NpgsqlConnection connection, string preset, int limit, CancellationToken cancellation) =>
        connection.QueryAsync("""
            SELECT job_id, preset, num_samples, fid, low_frequency_error, high_frequency_error, extra::text, created_at, samples_artifact
            FROM evaluations WHERE @preset = '' OR preset = @preset
            ORDER BY created_at DESC, id DESC LIMIT @limit
            """, r => new EvaluationRecord(r.GetGuid(0), r.GetString(1), r.GetInt32(2), r.IsDBNull(3) ? null : r.GetDouble(3), r.GetDouble(4),
                r.GetDouble(5), r.JsonMap<double>(6), r.GetDateTime(7), r.GetString(8)),
            cancellation, ("preset", preset), ("limit", limit));
}
