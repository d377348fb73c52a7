using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Npgsql;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Sweeps;
using SpectralDiffusion.Shared.Contracts.V1;
using Job = SpectralDiffusion.Orchestrator.Domain.Job;
using JobView = SpectralDiffusion.Shared.Contracts.V1.Job;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>The jobs table: the aggregate (load FOR UPDATE, save compare-and-set) and the read model the API returns.</summary>
public static class JobRepository
{
    public static async Task InsertAsync(NpgsqlConnection connection, Job job, IReadOnlyList<Guid> dependsOn, CancellationToken cancellation,
        SweepMembership? sweep = null)
    {
        var spec = job.Spec;
        await connection.ExecuteAsync("""
            INSERT INTO jobs (id, name, type, state, spec, spec_json, preset, teacher_preset, device, world_size, priority,
                              max_restarts, labels, depends_on, sweep_id, sweep_arm, sweep_seed)
            VALUES (@id, @name, @type, @state, @spec, @spec_json, @preset, @teacher_preset, @device, @world_size, @priority,
                    @max_restarts, @labels, @depends_on, @sweep_id, @sweep_arm, @sweep_seed)
            """, cancellation,
            ("id", job.Id), ("name", spec.Name), ("type", JobStates.Name(spec.Type)), ("state", JobStates.Name(job.State)),
            ("spec", spec.ToByteArray()), ("spec_json", SqlExtensions.Jsonb(JsonFormatter.Default.Format(spec))),
            ("preset", spec.Model.Preset), ("teacher_preset", spec.Teacher?.Preset ?? ""), ("device", JobStates.Name(spec.Device)),
            ("world_size", spec.WorldSize), ("priority", spec.Priority), ("max_restarts", spec.MaxRestarts),
            ("labels", SqlExtensions.Jsonb(spec.Labels.ToDictionary())), ("depends_on", dependsOn.ToArray()),
            ("sweep_id", sweep?.SweepId), ("sweep_arm", sweep?.Arm), ("sweep_seed", sweep?.Seed));
    }

    /// <summary>Loads the aggregate and locks its row until the transaction ends.</summary>
    public static Task<Job?> LoadForUpdateAsync(NpgsqlConnection connection, Guid id, CancellationToken cancellation) =>
        connection.QuerySingleOrDefaultAsync("""
            SELECT id, spec, state, attempt, restarts, failure_reason, result_artifact, resume_step
            FROM jobs WHERE id = @id FOR UPDATE
            """, r => Job.Restore(r.GetGuid(0), JobSpec.Parser.ParseFrom(r.GetFieldValue<byte[]>(1)), JobStates.Parse(r.GetString(2)),
                r.GetInt32(3), r.GetInt32(4), r.GetString(5), r.GetString(6), r.GetInt64(7)), cancellation, ("id", id));

    /// <summary>Saves a state change made to the aggregate, only if the row is still in <paramref name="expected"/>.</summary>
    public static async Task SaveAsync(NpgsqlConnection connection, Job job, JobState expected, CancellationToken cancellation)
    {
        var updated = await connection.ExecuteAsync("""
            UPDATE jobs SET state = @state, attempt = @attempt, restarts = @restarts, failure_reason = @failure_reason,
                            result_artifact = @result_artifact, resume_step = @resume_step, updated_at = now(),
                            started_at = CASE WHEN @state = 'RUNNING' THEN coalesce(started_at, now()) ELSE started_at END,
                            finished_at = CASE WHEN @state IN ('SUCCEEDED', 'FAILED', 'CANCELLED') THEN now() END
            WHERE id = @id AND state = @expected
            """, cancellation,
            ("id", job.Id), ("state", JobStates.Name(job.State)), ("expected", JobStates.Name(expected)), ("attempt", job.Attempt),
            ("restarts", job.Restarts), ("failure_reason", job.FailureReason), ("result_artifact", job.ResultArtifact),
            ("resume_step", job.ResumeStep));
        if (updated != 1) throw new IllegalJobTransitionException(job.Id, expected, $"save as {JobStates.Name(job.State)}: the job changed meanwhile");
    }

    public static async Task UpdateProgressAsync(NpgsqlConnection connection, Guid id, ProgressReport report, CancellationToken cancellation)
    {
        var latest = report.Metrics.GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.MaxBy(m => m.Step)!.Value);
        await connection.ExecuteAsync("""
            UPDATE jobs SET progress_step = @step, progress_total = @total, progress_phase = @phase, steps_per_second = @rate,
                            progress_metrics = progress_metrics || @metrics, updated_at = now()
            WHERE id = @id
            """, cancellation,
            ("id", id), ("step", report.Step), ("total", report.TotalSteps), ("phase", report.Phase),
            ("rate", report.StepsPerSecond), ("metrics", SqlExtensions.Jsonb(latest)));
    }

    const string SelectView = """
        SELECT j.id, j.spec, j.state, j.attempt, j.restarts, j.failure_reason, j.created_at, j.started_at, j.finished_at,
               j.progress_step, j.progress_total, j.progress_phase, j.steps_per_second, j.progress_metrics::text,
               ARRAY(SELECT r.worker_id::text FROM attempt_ranks r WHERE r.job_id = j.id AND r.attempt = j.attempt ORDER BY r.rank),
               j.result_artifact, j.resume_step, j.seq
        FROM jobs j
        """;

    public static Task<JobView?> GetAsync(NpgsqlConnection connection, Guid id, CancellationToken cancellation) =>
        connection.QuerySingleOrDefaultAsync(SelectView + " WHERE j.id = @id", r => ReadView(r), cancellation, ("id", id));

    /// <summary>Newest first; the page token is the <c>seq</c> of the last job returned.</summary>
    public static async Task<(List<JobView> Jobs, long? NextSeq)> ListAsync(NpgsqlConnection connection, ListJobsRequest request,
        int pageSize, long? beforeSeq, CancellationToken cancellation)
    {
        var rows = await connection.QueryAsync(SelectView + """
             WHERE (cardinality(@states) = 0 OR j.state = ANY(@states))
               AND (@type = '' OR j.type = @type)
               AND j.labels @> @labels
               AND j.seq < @before
             ORDER BY j.seq DESC
             LIMIT @limit
            """, r => (Job: ReadView(r), Seq: r.GetInt64(17)), cancellation,
            ("states", request.States.Select(JobStates.Name).ToArray()),
            ("type", request.Type == JobType.Unspecified ? "" : JobStates.Name(request.Type)),
            ("labels", SqlExtensions.Jsonb(request.Labels.ToDictionary())),
            ("before", beforeSeq ?? long.MaxValue), ("limit", pageSize + 1));
        var page = rows.Take(pageSize).ToList();
        return (page.Select(p => p.Job).ToList(), rows.Count > pageSize ? page[^1].Seq : null);
    }

    static JobView ReadView(NpgsqlDataReader r)
    {
        var job = new JobView
        {
            Id = r.GetGuid(0).ToString(),
            Spec = JobSpec.Parser.ParseFrom(r.GetFieldValue<byte[]>(1)),
            State = JobStates.Parse(r.GetString(2)),
            Attempt = r.GetInt32(3),
            Restarts = r.GetInt32(4),
            FailureReason = r.GetString(5),
            CreatedAt = Timestamp.FromDateTime(r.GetDateTime(6)),
            StartedAt = r.NullableDateTime(7) is { } started ? Timestamp.FromDateTime(started) : null,
            FinishedAt = r.NullableDateTime(8) is { } finished ? Timestamp.FromDateTime(finished) : null,
            Progress = new Progress { Step = r.GetInt64(9), TotalSteps = r.GetInt64(10), Phase = r.GetString(11), StepsPerSecond = r.GetDouble(12) },
            ResultArtifact = r.GetString(15),
            ResumeStep = r.GetInt64(16),
        };
        job.Progress.Metrics.Add(r.JsonMap<double>(13));
        job.Workers.AddRange(r.GetFieldValue<string[]>(14));
        return job;
    }
}
