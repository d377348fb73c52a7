using System.Text.Json;
using Npgsql;
using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>The jobs table: the aggregate (load FOR UPDATE, save compare-and-set) and the read model the API returns.</summary>
public static class JobRepository
{
    /// <summary>What a listing filters on: any of <see cref="States"/> (all when empty), the type (any when null), and every label given.</summary>
    public sealed record Filter(IReadOnlyList<JobState> States, JobType? Type, IReadOnlyDictionary<string, string> Labels);

    /// <summary>Inserts a queued job and returns its view as <see cref="GetAsync"/> would, in one statement.</summary>
    public static async Task<JobSnapshot> InsertAsync(NpgsqlConnection connection, Job job, IReadOnlyList<Guid> dependsOn, CancellationToken cancellation,
        SweepMembership? sweep = null) =>
        (await InsertManyAsync(connection, [(job, dependsOn)], cancellation, [sweep]))[0];

    /// <summary>
    /// Inserts queued jobs, each with the jobs it depends on, and returns their views (in the order given) as
    /// <see cref="GetAsync"/> would: one statement, so all of them are stored or none. <paramref name="sweeps"/>, when
    /// given, names the sweep arm of each job (null for a job outside a sweep).
    /// </summary>
    public static async Task<List<JobSnapshot>> InsertManyAsync(NpgsqlConnection connection, IReadOnlyList<(Job Job, IReadOnlyList<Guid> DependsOn)> jobs,
        CancellationToken cancellation, IReadOnlyList<SweepMembership?>? sweeps = null)
    {
        T[] Column<T>(Func<Job, T> value) => jobs.Select(j => value(j.Job)).ToArray();
        SweepMembership? Sweep(int index) => sweeps is null ? null : sweeps[index];
        var views = await connection.QueryAsync("""
            INSERT INTO jobs (id, name, type, state, spec, spec_json, preset, teacher_preset, device, world_size, priority,
                              max_restarts, labels, depends_on, sweep_id, sweep_arm, sweep_seed)
            SELECT id, name, type, state, spec, spec_json::jsonb, preset, teacher_preset, device, world_size, priority, max_restarts,
                   labels::jsonb, CASE WHEN depends_on = '' THEN '{}'::uuid[] ELSE string_to_array(depends_on, ',')::uuid[] END,
                   sweep_id, sweep_arm, sweep_seed
            FROM unnest(@ids, @names, @types, @states, @specs, @spec_jsons, @presets, @teacher_presets, @devices, @world_sizes,
                        @priorities, @max_restarts, @labels, @depends_on, @sweep_ids, @sweep_arms, @sweep_seeds)
                 AS j (id, name, type, state, spec, spec_json, preset, teacher_preset, device, world_size, priority, max_restarts,
                       labels, depends_on, sweep_id, sweep_arm, sweep_seed)
            RETURNING id, spec, state, attempt, restarts, failure_reason, created_at, started_at, finished_at,
                      progress_step, progress_total, progress_phase, steps_per_second, progress_metrics::text,
                      '{}'::text[], result_artifact, resume_step, seq
            """, r => ReadView(r), cancellation,
            ("ids", Column(j => j.Id)), ("names", Column(j => j.Spec.Name)), ("types", Column(j => JobStates.Name(j.Spec.Type))),
            ("states", Column(j => JobStates.Name(j.State))), ("specs", Column(j => j.Spec.Encoded)),
            ("spec_jsons", Column(j => j.Spec.Json)), ("presets", Column(j => j.Spec.Preset)),
            ("teacher_presets", Column(j => j.Spec.TeacherPreset)), ("devices", Column(j => JobStates.Name(j.Spec.Device))),
            ("world_sizes", Column(j => j.Spec.WorldSize)), ("priorities", Column(j => j.Spec.Priority)),
            ("max_restarts", Column(j => j.Spec.MaxRestarts)), ("labels", Column(j => JsonSerializer.Serialize(j.Spec.Labels))),
            ("depends_on", jobs.Select(j => string.Join(',', j.DependsOn)).ToArray()),
            ("sweep_ids", jobs.Select((_, i) => Sweep(i)?.SweepId).ToArray()), ("sweep_arms", jobs.Select((_, i) => Sweep(i)?.Arm).ToArray()),
            ("sweep_seeds", jobs.Select((_, i) => Sweep(i)?.Seed).ToArray()));
        var byId = views.ToDictionary(v => v.Id);
        return jobs.Select(j => byId[j.Job.Id]).ToList();
    }

    /// <summary>Loads the aggregate and locks its row until the transaction ends.</summary>
    public static async Task<Job?> LoadForUpdateAsync(NpgsqlConnection connection, Guid id, CancellationToken cancellation) =>
        (await LoadManyForUpdateAsync(connection, [id], cancellation)) is [var job] ? job : null;

    /// <summary>Loads the aggregates that exist among <paramref name="ids"/> and locks their rows until the transaction ends.</summary>
    public static Task<List<Job>> LoadManyForUpdateAsync(NpgsqlConnection connection, Guid[] ids, CancellationToken cancellation) =>
        connection.QueryAsync($"""
            SELECT id, state, attempt, restarts, failure_reason, result_artifact, resume_step, {SpecColumns}
            FROM jobs WHERE id = ANY(@ids) ORDER BY id FOR UPDATE
            """, r => Job.Restore(r.GetGuid(0), ReadSpec(r, 7), JobStates.Parse(r.GetString(1)),
                r.GetInt32(2), r.GetInt32(3), r.GetString(4), r.GetString(5), r.GetInt64(6)), cancellation, ("ids", ids));

    /// <summary>
    /// The columns a <see cref="JobSpecDocument"/> is read from (<see cref="ReadSpec"/>): the spec as accepted, and the
    /// fields written beside it at insert. The checkpoints are read from the JSON copy, which holds them under their proto
    /// JSON names (absent when empty).
    /// </summary>
    public const string SpecColumns = """
        spec, spec_json::text, name, type, device, world_size, priority, max_restarts, preset,
        coalesce(spec_json -> 'model' ->> 'checkpoint', ''), teacher_preset, coalesce(spec_json -> 'teacher' ->> 'checkpoint', ''), labels::text
        """;

    /// <summary>The spec from the <see cref="SpecColumns"/>, which start at column <paramref name="first"/>.</summary>
    public static JobSpecDocument ReadSpec(NpgsqlDataReader r, int first) =>
        new(r.GetFieldValue<byte[]>(first), r.GetString(first + 1), r.GetString(first + 2), JobStates.ParseType(r.GetString(first + 3)),
            JobStates.ParseDevice(r.GetString(first + 4)), r.GetInt32(first + 5), r.GetInt32(first + 6), r.GetInt32(first + 7),
            r.GetString(first + 8), r.GetString(first + 9), r.GetString(first + 10), r.GetString(first + 11), r.JsonMap<string>(first + 12));

    /// <summary>Saves a state change made to the aggregate, only if the row is still in <paramref name="expected"/>.</summary>
    public static Task SaveAsync(NpgsqlConnection connection, Job job, JobState expected, CancellationToken cancellation) =>
        SaveManyAsync(connection, [job], expected, cancellation);

    /// <summary>Saves the state changes made to the aggregates in one statement, only if every row is still in <paramref name="expected"/>.</summary>
    public static async Task SaveManyAsync(NpgsqlConnection connection, IReadOnlyList<Job> jobs, JobState expected, CancellationToken cancellation)
    {
        var updated = await connection.ExecuteAsync("""
            UPDATE jobs j SET state = s.state, attempt = s.attempt, restarts = s.restarts, failure_reason = s.failure_reason,
                              result_artifact = s.result_artifact, resume_step = s.resume_step, updated_at = now(),
                              started_at = CASE WHEN s.state = 'RUNNING' THEN coalesce(j.started_at, now()) ELSE j.started_at END,
                              finished_at = CASE WHEN s.state IN ('SUCCEEDED', 'FAILED', 'CANCELLED') THEN now() END
            FROM unnest(@ids, @states, @attempts, @restarts, @failure_reasons, @result_artifacts, @resume_steps)
                 AS s (id, state, attempt, restarts, failure_reason, result_artifact, resume_step)
            WHERE j.id = s.id AND j.state = @expected
            """, cancellation,
            ("ids", jobs.Select(j => j.Id).ToArray()), ("states", jobs.Select(j => JobStates.Name(j.State)).ToArray()),
            ("attempts", jobs.Select(j => j.Attempt).ToArray()), ("restarts", jobs.Select(j => j.Restarts).ToArray()),
            ("failure_reasons", jobs.Select(j => j.FailureReason).ToArray()), ("result_artifacts", jobs.Select(j => j.ResultArtifact).ToArray()),
            ("resume_steps", jobs.Select(j => j.ResumeStep).ToArray()), ("expected", JobStates.Name(expected)));
        if (updated != jobs.Count)
            throw new IllegalJobTransitionException(jobs[0].Id, expected, jobs.Count == 1
                ? $"save as {JobStates.Name(jobs[0].State)}: the job changed meanwhile"
                : $"save {jobs.Count} jobs: {jobs.Count - updated} of them changed meanwhile");
    }

    public static async Task UpdateProgressAsync(NpgsqlConnection connection, ProgressUpdate report, CancellationToken cancellation)
    {
        var latest = report.Metrics.GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.MaxBy(m => m.Step)!.Value);
        await connection.ExecuteAsync("""
            UPDATE jobs SET progress_step = @step, progress_total = @total, progress_phase = @phase, steps_per_second = @rate,
                            progress_metrics = progress_metrics || @metrics, updated_at = now()
            WHERE id = @id
            """, cancellation,
            ("id", report.JobId), ("step", report.Step), ("total", report.TotalSteps), ("phase", report.Phase),
            ("rate", report.StepsPerSecond), ("metrics", SqlExtensions.Jsonb(latest)));
    }

    const string SelectView = """
        SELECT j.id, j.spec, j.state, j.attempt, j.restarts, j.failure_reason, j.created_at, j.started_at, j.finished_at,
               j.progress_step, j.progress_total, j.progress_phase, j.steps_per_second, j.progress_metrics::text,
               ARRAY(SELECT r.worker_id::text FROM attempt_ranks r WHERE r.job_id = j.id AND r.attempt = j.attempt ORDER BY r.rank),
               j.result_artifact, j.resume_step, j.seq
        FROM jobs j
        """;

    public static Task<JobSnapshot?> GetAsync(NpgsqlConnection connection, Guid id, CancellationToken cancellation) =>
        connection.QuerySingleOrDefaultAsync(SelectView + " WHERE j.id = @id", r => ReadView(r), cancellation, ("id", id));

    /// <summary>Newest first; the page token is the <c>seq</c> of the last job returned.</summary>
    public static async Task<(List<JobSnapshot> Jobs, long? NextSeq)> ListAsync(NpgsqlConnection connection, Filter filter,
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
            ("states", filter.States.Select(JobStates.Name).ToArray()),
            ("type", filter.Type is { } type ? JobStates.Name(type) : ""),
            ("labels", SqlExtensions.Jsonb(filter.Labels)),
            ("before", beforeSeq ?? long.MaxValue), ("limit", pageSize + 1));
        var page = rows.Take(pageSize).ToList();
        return (page.Select(p => p.Job).ToList(), rows.Count > pageSize ? page[^1].Seq : null);
    }

    static JobSnapshot ReadView(NpgsqlDataReader r) =>
        new(r.GetGuid(0), r.GetFieldValue<byte[]>(1), JobStates.Parse(r.GetString(2)), r.GetInt32(3), r.GetInt32(4), r.GetString(5),
            r.GetDateTime(6), r.NullableDateTime(7), r.NullableDateTime(8),
            new JobProgress(r.GetInt64(9), r.GetInt64(10), r.GetString(11), r.GetDouble(12), r.JsonMap<double>(13)),
            r.GetFieldValue<string[]>(14), r.GetString(15), r.GetInt64(16));
}
