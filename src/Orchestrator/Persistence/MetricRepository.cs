using Npgsql;
using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>The metrics table: (job, attempt, rank, step, name, value) series, one row per (job, attempt, step, name).</summary>
public static class MetricRepository
{
    /// <summary>Records the report's points; a point already recorded (a report sent again) is left as it is.</summary>
    public static Task InsertAsync(NpgsqlConnection connection, ProgressUpdate report, CancellationToken cancellation) =>
        report.Metrics.Count == 0 ? Task.CompletedTask : connection.ExecuteAsync("""
            INSERT INTO metrics (job_id, attempt, rank, step, name, value)
            SELECT @job, @attempt, @rank, m.step, m.name, m.value FROM unnest(@steps, @names, @values) AS m (step, name, value)
            ON CONFLICT (job_id, attempt, step, name) DO NOTHING
            """, cancellation, ("job", report.JobId), ("attempt", report.Attempt), ("rank", report.Rank),
            ("steps", report.Metrics.Select(m => m.Step).ToArray()), ("names", report.Metrics.Select(m => m.Name).ToArray()),
            ("values", report.Metrics.Select(m => m.Value).ToArray()));

    /// <summary>Rank 0's series of one metric, in step order.</summary>
    public static Task<List<SeriesSample>> SeriesAsync(NpgsqlConnection connection, Guid jobId, string name, CancellationToken cancellation) =>
        connection.QueryAsync("""
            SELECT step, value, attempt FROM metrics WHERE job_id = @job AND name = @name AND rank = 0 ORDER BY step, attempt
            """, r => new SeriesSample(r.GetInt64(0), r.GetDouble(1), r.GetInt32(2)),
            cancellation, ("job", jobId), ("name", name));
}
