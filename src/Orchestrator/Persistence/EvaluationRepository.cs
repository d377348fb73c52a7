using Google.Protobuf.WellKnownTypes;
using Npgsql;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>The evaluations table: FID (when Inception weights were given) and the low/high frequency errors of a model.</summary>
public static class EvaluationRepository
{
    public static Task InsertAsync(NpgsqlConnection connection, EvaluationReport report, Guid jobId, CancellationToken cancellation) =>
        connection.ExecuteAsync("""
            INSERT INTO evaluations (job_id, attempt, preset, num_samples, fid, low_frequency_error, high_frequency_error, extra, samples_artifact)
            VALUES (@job, @attempt, @preset, @num_samples, @fid, @low, @high, @extra, @samples)
            """, cancellation, ("job", jobId), ("attempt", report.Attempt), ("preset", report.Preset), ("num_samples", report.NumSamples),
            ("fid", report.HasFid ? report.Fid : DBNull.Value), ("low", report.LowFrequencyError), ("high", report.HighFrequencyError),
            ("extra", SqlExtensions.Jsonb(report.Extra.ToDictionary())), ("samples", report.SamplesArtifact));

    public static Task<List<Evaluation>> ListAsync(NpgsqlConnection connection, string preset, int limit, CancellationToken cancellation) =>
        connection.QueryAsync("""
            SELECT job_id, preset, num_samples, fid, low_frequency_error, high_frequency_error, extra::text, created_at, samples_artifact
            FROM evaluations WHERE @preset = '' OR preset = @preset
            ORDER BY created_at DESC, id DESC LIMIT @limit
            """, r =>
            {
                var evaluation = new Evaluation
                {
                    JobId = r.GetGuid(0).ToString(), Preset = r.GetString(1), NumSamples = r.GetInt32(2),
                    LowFrequencyError = r.GetDouble(4), HighFrequencyError = r.GetDouble(5),
                    CreatedAt = Timestamp.FromDateTime(r.GetDateTime(7)), SamplesArtifact = r.GetString(8),
                };
                if (!r.IsDBNull(3)) evaluation.Fid = r.GetDouble(3);
                evaluation.Extra.Add(r.JsonMap<double>(6));
                return evaluation;
            }, cancellation, ("preset", preset), ("limit", limit));
}
