using Google.Protobuf.WellKnownTypes;
using Npgsql;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>Run summaries for dashboards and <c>orchestrator runs</c>: every job with its final metrics, newest first.</summary>
public static class RunRepository
{
    public static Task<List<RunSummary>> ListAsync(NpgsqlConnection connection, JobType type, string preset, int limit, CancellationToken cancellation) =>
        connection.QueryAsync("""
            SELECT id, name, type, state, preset, teacher_preset, world_size, attempt, progress_step, progress_metrics::text,
                   created_at, finished_at, result_artifact, coalesce(spec_json -> 'firstStage' ->> 'config', '')
            FROM jobs
            WHERE (@type = '' OR type = @type) AND (@preset = '' OR preset = @preset)
            ORDER BY seq DESC LIMIT @limit
            """, r =>
            {
                var run = new RunSummary
                {
                    JobId = r.GetGuid(0).ToString(), Name = r.GetString(1), Type = JobStates.ParseType(r.GetString(2)),
                    State = JobStates.Parse(r.GetString(3)), Preset = r.GetString(4), TeacherPreset = r.GetString(5),
                    WorldSize = r.GetInt32(6), Attempts = r.GetInt32(7), Steps = r.GetInt64(8),
                    CreatedAt = Timestamp.FromDateTime(r.GetDateTime(10)),
                    FinishedAt = r.NullableDateTime(11) is { } finished ? Timestamp.FromDateTime(finished) : null,
                    ResultArtifact = r.GetString(12), FirstStage = r.GetString(13),
                };
                run.FinalMetrics.Add(r.JsonMap<double>(9));
                return run;
            }, cancellation, ("type", type == JobType.Unspecified ? "" : JobStates.Name(type)), ("preset", preset), ("limit", limit));
}
