using System.Text.Json;
using Npgsql;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;

namespace SpectralDiffusion.Orchestrator.Dashboard;

/// <summary>A job as the dashboard lists it. <see cref="Eta"/> is the remaining steps at the last reported rate.</summary>
public sealed record JobRow(Guid Id, string Name, string Type, string State, string Preset, string TeacherPreset, string Device, int WorldSize,
    int Attempt, long Step, long TotalSteps, string Phase, double StepsPerSecond, IReadOnlyDictionary<string, string> Labels,
    DateTime CreatedAt, DateTime? FinishedAt, string FailureReason)
{
    public double? Fraction => TotalSteps > 0 ? Math.Clamp((double)Step / TotalSteps, 0, 1) : null;

    public TimeSpan? Eta => State is "RUNNING" && StepsPerSecond > 0 && TotalSteps > Step
        ? TimeSpan.FromSeconds((TotalSteps - Step) / StepsPerSecond) : null;
}

/// <summary>What the jobs page filters on; empty fields match everything. <see cref="Label"/> is <c>key</c> or <c>key=value</c>.</summary>
public sealed record JobFilter(string State = "", string Type = "", string Label = "");

public sealed record AttemptRow(int Attempt, string State, int WorldSize, DateTime StartedAt, DateTime? EndedAt, string EndReason,
    Guid? ResumeCheckpoint, long? ResumeStep, IReadOnlyList<RankRow> Ranks);

public sealed record RankRow(int Rank, Guid WorkerId, string WorkerName, string Node, bool Completed, bool Succeeded, string Error);

public sealed record CheckpointRow(Guid Id, int Attempt, long Step, int WorldSize, DateTime? CompletedAt, long Bytes);

public sealed record EvaluationRow(int Attempt, string Preset, int NumSamples, double? Fid, double LowFrequencyError, double HighFrequencyError,
    IReadOnlyDictionary<string, double> Extra, DateTime CreatedAt);

public sealed record JobFileRow(string Name, int Attempt, string Sha256, long Size, DateTime CreatedAt);

public sealed record WorkerRow(Guid Id, string Name, string Node, string Device, int DeviceIndex, string State, DateTime LastHeartbeatAt,
    DateTime LeaseExpiresAt, Guid? JobId, string? JobName, int? Rank, string Version);

/// <summary>The sweep, arm and seed a job was expanded from.</summary>
public sealed record JobSweepRow(Guid SweepId, string SweepName, string Arm, long Seed);

public sealed record JobRelations(Guid Id, IReadOnlyList<Guid> DependsOn, Guid? Evaluator);

/// <summary>One metric's rank-0 series, in step order.</summary>
public sealed record MetricCurve(string Name, IReadOnlyList<(long Step, double Value)> Points);

/// <summary>The dashboard's reads: plain SQL beside the records it fills. Read-only; nothing here writes.</summary>
public static class DashboardQueries
{
    const string JobColumns = """
        id, name, type, state, preset, teacher_preset, device, world_size, attempt, progress_step, progress_total, progress_phase,
        steps_per_second, labels::text, created_at, finished_at, failure_reason
        """;

    public static Task<List<JobRow>> JobsAsync(NpgsqlConnection connection, JobFilter filter, int limit, CancellationToken cancellation)
    {
        var (labelKey, labelValue) = SplitLabel(filter.Label);
        return connection.QueryAsync($"""
            SELECT {JobColumns} FROM jobs
            WHERE (@state = '' OR state = @state) AND (@type = '' OR type = @type)
              AND (@label_key = '' OR (labels ->> @label_key IS NOT NULL AND (@label_value::text IS NULL OR labels ->> @label_key = @label_value)))
            ORDER BY seq DESC LIMIT @limit
            """, ReadJob, cancellation, ("state", filter.State.ToUpperInvariant()), ("type", filter.Type.ToUpperInvariant()),
            ("label_key", labelKey), ("label_value", labelValue), ("limit", limit));
    }

    public static Task<JobRow?> JobAsync(NpgsqlConnection connection, Guid id, CancellationToken cancellation) =>
        connection.QuerySingleOrDefaultAsync($"SELECT {JobColumns} FROM jobs WHERE id = @id", ReadJob, cancellation, ("id", id));

    public static Task<List<JobRow>> JobsByIdAsync(NpgsqlConnection connection, IReadOnlyList<Guid> ids, CancellationToken cancellation) =>
        connection.QueryAsync($"SELECT {JobColumns} FROM jobs WHERE id = ANY(@ids) ORDER BY seq", ReadJob, cancellation, ("ids", ids.ToArray()));

    /// <summary>The job's spec exactly as accepted (the stored protobuf), with the fields stored beside it.</summary>
    public static Task<JobSpecDocument?> SpecAsync(NpgsqlConnection connection, Guid id, CancellationToken cancellation) =>
        connection.QuerySingleOrDefaultAsync($"SELECT {JobRepository.SpecColumns} FROM jobs WHERE id = @id", r => JobRepository.ReadSpec(r, 0),
            cancellation, ("id", id));

    public static async Task<List<AttemptRow>> AttemptsAsync(NpgsqlConnection connection, Guid jobId, CancellationToken cancellation)
    {
        var ranks = (await connection.QueryAsync("""
            SELECT r.attempt, r.rank, r.worker_id, w.name, w.node, r.completed, r.succeeded, r.error
            FROM attempt_ranks r JOIN workers w ON w.id = r.worker_id WHERE r.job_id = @job ORDER BY r.attempt, r.rank
            """, r => (Attempt: r.GetInt32(0), Row: new RankRow(r.GetInt32(1), r.GetGuid(2), r.GetString(3), r.GetString(4), r.GetBoolean(5),
                r.GetBoolean(6), r.GetString(7))), cancellation, ("job", jobId)))
            .ToLookup(r => r.Attempt, r => r.Row);
        return await connection.QueryAsync("""
            SELECT a.attempt, a.state, a.world_size, a.started_at, a.ended_at, a.end_reason, a.resume_checkpoint_id, c.step
            FROM attempts a LEFT JOIN checkpoints c ON c.id = a.resume_checkpoint_id
            WHERE a.job_id = @job ORDER BY a.attempt
            """, r => new AttemptRow(r.GetInt32(0), r.GetString(1), r.GetInt32(2), r.GetDateTime(3), r.NullableDateTime(4), r.GetString(5),
                r.IsDBNull(6) ? null : r.GetGuid(6), r.IsDBNull(7) ? null : r.GetInt64(7), ranks[r.GetInt32(0)].ToList()),
            cancellation, ("job", jobId));
    }

    public static Task<List<CheckpointRow>> CheckpointsAsync(NpgsqlConnection connection, Guid jobId, CancellationToken cancellation) =>
        connection.QueryAsync("""
            SELECT c.id, c.attempt, c.step, c.world_size, c.completed_at, COALESCE((SELECT sum(s.size) FROM checkpoint_shards s WHERE s.checkpoint_id = c.id), 0)
            FROM checkpoints c WHERE c.job_id = @job ORDER BY c.step DESC, c.attempt DESC
            """, r => new CheckpointRow(r.GetGuid(0), r.GetInt32(1), r.GetInt64(2), r.GetInt32(3), r.NullableDateTime(4), r.GetInt64(5)),
            cancellation, ("job", jobId));

    /// <summary>Every metric rank 0 logged for the job (the latest attempt's value where a step was logged twice), by name.</summary>
    public static async Task<List<MetricCurve>> CurvesAsync(NpgsqlConnection connection, Guid jobId, CancellationToken cancellation)
    {
        var points = await connection.QueryAsync("""
            SELECT DISTINCT ON (name, step) name, step, value FROM metrics
            WHERE job_id = @job AND rank = 0 ORDER BY name, step, attempt DESC
            """, r => (Name: r.GetString(0), Step: r.GetInt64(1), Value: r.GetDouble(2)), cancellation, ("job", jobId));
        return points.GroupBy(p => p.Name).Select(g => new MetricCurve(g.Key, g.Select(p => (p.Step, p.Value)).ToList())).ToList();
    }

    public static async Task<Dictionary<Guid, EvaluationRow>> EvaluationsByJobAsync(NpgsqlConnection connection, IReadOnlyList<Guid> jobIds,
        CancellationToken cancellation) =>
        (await connection.QueryAsync("""
            SELECT DISTINCT ON (job_id) job_id, attempt, preset, num_samples, fid, low_frequency_error, high_frequency_error, extra::text, created_at
            FROM evaluations WHERE job_id = ANY(@ids) ORDER BY job_id, created_at DESC, id DESC
            """, r => (Job: r.GetGuid(0), Row: new EvaluationRow(r.GetInt32(1), r.GetString(2), r.GetInt32(3), r.IsDBNull(4) ? null : r.GetDouble(4),
                r.GetDouble(5), r.GetDouble(6), r.JsonMap<double>(7), r.GetDateTime(8))), cancellation, ("ids", jobIds.ToArray())))
        .ToDictionary(e => e.Job, e => e.Row);

    public static Task<List<JobFileRow>> FilesAsync(NpgsqlConnection connection, Guid jobId, CancellationToken cancellation) =>
        connection.QueryAsync("SELECT name, attempt, sha256, size, created_at FROM job_files WHERE job_id = @job ORDER BY name",
            r => new JobFileRow(r.GetString(0), r.GetInt32(1), r.GetString(2), r.GetInt64(3), r.GetDateTime(4)), cancellation, ("job", jobId));

    public static Task<JobFileRow?> FileAsync(NpgsqlConnection connection, Guid jobId, string name, CancellationToken cancellation) =>
        connection.QuerySingleOrDefaultAsync("SELECT name, attempt, sha256, size, created_at FROM job_files WHERE job_id = @job AND name = @name",
            r => new JobFileRow(r.GetString(0), r.GetInt32(1), r.GetString(2), r.GetInt64(3), r.GetDateTime(4)), cancellation, ("job", jobId), ("name", name));

    /// <summary>For each job: the jobs it depends on, and the newest evaluate job that depends on it (what Compare joins on).</summary>
    public static Task<List<JobRelations>> RelationsAsync(NpgsqlConnection connection, IReadOnlyList<Guid> ids, CancellationToken cancellation) =>
        connection.QueryAsync("""
            SELECT j.id, j.depends_on,
                   (SELECT e.id FROM jobs e WHERE e.type = 'EVALUATE' AND j.id = ANY(e.depends_on) ORDER BY e.seq DESC LIMIT 1)
            FROM jobs j WHERE j.id = ANY(@ids)
            """, r => new JobRelations(r.GetGuid(0), r.GetFieldValue<Guid[]>(1), r.IsDBNull(2) ? null : r.GetGuid(2)), cancellation, ("ids", ids.ToArray()));

    /// <summary>The sweep the job belongs to; null for a job submitted on its own.</summary>
    public static Task<JobSweepRow?> SweepOfJobAsync(NpgsqlConnection connection, Guid jobId, CancellationToken cancellation) =>
        connection.QuerySingleOrDefaultAsync("""
            SELECT s.id, s.name, j.sweep_arm, j.sweep_seed FROM jobs j JOIN sweeps s ON s.id = j.sweep_id WHERE j.id = @job
            """, r => new JobSweepRow(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetInt64(3)), cancellation, ("job", jobId));

    /// <summary>Live workers first, then the most recently heard-from.</summary>
    public static Task<List<WorkerRow>> WorkersAsync(NpgsqlConnection connection, CancellationToken cancellation) =>
        connection.QueryAsync("""
            SELECT w.id, w.name, w.node, w.device, w.device_index, w.state, w.last_heartbeat_at, w.lease_expires_at, w.job_id, j.name, w.rank, w.version
            FROM workers w LEFT JOIN jobs j ON j.id = w.job_id
            ORDER BY (w.state IN ('idle', 'busy')) DESC, w.last_heartbeat_at DESC LIMIT 500
            """, r => new WorkerRow(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt32(4), r.GetString(5), r.GetDateTime(6),
                r.GetDateTime(7), r.IsDBNull(8) ? null : r.GetGuid(8), r.IsDBNull(9) ? null : r.GetString(9), r.IsDBNull(10) ? null : r.GetInt32(10),
                r.GetString(11)), cancellation);

    static JobRow ReadJob(NpgsqlDataReader r) => new(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5),
        r.GetString(6), r.GetInt32(7), r.GetInt32(8), r.GetInt64(9), r.GetInt64(10), r.GetString(11), r.GetDouble(12),
        JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(13)) ?? [], r.GetDateTime(14), r.NullableDateTime(15), r.GetString(16));

    /// <summary>"key=value" → (key, value); "key" → (key, null): any value.</summary>
    static (string Key, string? Value) SplitLabel(string label)
    {
        var trimmed = label.Trim();
        var equals = trimmed.IndexOf('=');
        return equals < 0 ? (trimmed, null) : (trimmed[..equals].Trim(), trimmed[(equals + 1)..].Trim());
    }
}
