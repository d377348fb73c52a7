using Microsoft.Extensions.Options;
using Npgsql;
using Serilog.Context;
using SpectralDiffusion.Orchestrator.Artifacts;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Monitoring;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Attempts;
using SpectralDiffusion.Orchestrator.Delivery;

namespace SpectralDiffusion.Orchestrator.Scheduling;

/// <summary>
/// Gang scheduling, priority then FIFO. One iteration fails queued jobs whose input job can never deliver, then assigns
/// queued jobs in rounds of one transaction each: a round locks its candidates and every free, live, connected worker of
/// their device kinds (FOR UPDATE SKIP LOCKED) and starts each candidate that <c>world_size</c> of those workers can take;
/// they get ranks 0..W-1 of a new attempt with a fresh rendezvous id.
/// A job that does not fit is passed over (smaller jobs behind it may start) until it has waited
/// <c>Orchestrator:ReserveAfter</c>; then it reserves its device kind, and no job behind it starts there before it does.
/// A job larger than all live workers of its kind reserves nothing: waiting for busy workers could not help it.
/// </summary>
public sealed class Scheduler(Database database, AssignmentHub hub, NotificationDispatcher dispatcher, SchedulerSignal signal,
    ArtifactStore artifacts, IOptions<SchedulerOptions> options, OrchestratorMetrics metrics, ILogger<Scheduler> logger) : IPeriodicWork
{
    const int CandidatesPerRound = 512;

    public string Name => "scheduler";
    public TimeSpan Interval => options.Value.SchedulerInterval;
    public Task WaitAsync(CancellationToken cancellation) => signal.WaitAsync(Interval, cancellation);

    /// <summary>One scheduling pass; returns how many jobs were assigned. Candidates are only jobs that enough free workers of their device could take.</summary>
    public async Task<int> ExecuteAsync(CancellationToken cancellation)
    {
        await FailUnsatisfiableAsync(cancellation);
        var assigned = 0;
        while (!cancellation.IsCancellationRequested && hub.ConnectedWorkers is { Length: > 0 } connected)
        {
            var (started, notifications, waited) = await database.TransactAsync((connection, token) => AssignRoundAsync(connection, connected, token), cancellation);
            if (started == 0) break;
            waited.ForEach(metrics.JobScheduled);
            await dispatcher.DispatchAsync(notifications, cancellation);
            assigned += started;
        }
        return assigned;
    }

    /// <summary>
    /// One transaction: the candidates in priority/FIFO order, every free connected worker of their device kinds locked
    /// at once, then every candidate that fits started from that pool, written with one statement per table. Returns how
    /// long each started job had waited in the queue (the scheduling latency).
    /// </summary>
    async Task<(int Started, Notifications Notifications, List<TimeSpan> Waited)> AssignRoundAsync(NpgsqlConnection connection, Guid[] connected, CancellationToken cancellation)
    {
        var candidates = await connection.QueryAsync("""
            WITH free AS (
                SELECT device, count(*) AS workers FROM workers
                WHERE state = 'idle' AND lease_expires_at > now() AND id = ANY(@connected)
                GROUP BY device),
            live AS (
                SELECT device, count(*) AS workers FROM workers
                WHERE state IN ('idle', 'busy') AND lease_expires_at > now()
                GROUP BY device)
            SELECT j.id, j.world_size, j.device,
                   now() - coalesce((SELECT max(a.ended_at) FROM attempts a WHERE a.job_id = j.id), j.created_at) AS waited
            FROM jobs j
            JOIN live l ON l.device = j.device AND l.workers >= j.world_size
            LEFT JOIN free f ON f.device = j.device
            WHERE j.state = 'QUEUED'
              AND NOT EXISTS (SELECT 1 FROM jobs d WHERE d.id = ANY(j.depends_on) AND d.state <> 'SUCCEEDED')
              AND (coalesce(f.workers, 0) >= j.world_size
                   OR now() - coalesce((SELECT max(a.ended_at) FROM attempts a WHERE a.job_id = j.id), j.created_at) >= @reserve_after)
            ORDER BY j.priority DESC, j.seq
            LIMIT @limit
            FOR UPDATE OF j SKIP LOCKED
            """, r => (Id: r.GetGuid(0), WorldSize: r.GetInt32(1), Device: JobStates.ParseDevice(r.GetString(2)), Waited: r.GetFieldValue<TimeSpan>(3)),
            cancellation, ("limit", CandidatesPerRound), ("connected", connected), ("reserve_after", options.Value.ReserveAfter));
        if (candidates.Count == 0) return (0, new Notifications(), []);
        var free = await WorkerRepository.ClaimIdleAsync(connection, candidates.Select(c => c.Device).Distinct().ToArray(), connected, cancellation);
        var pools = free.GroupBy(w => w.Device).ToDictionary(g => g.Key, g => new Queue<Guid>(g.Select(w => w.Id)));
        var reserved = new HashSet<DeviceKind>();
        var gangs = new List<(Guid JobId, List<Guid> Workers)>();
        var waited = new List<TimeSpan>();
        foreach (var candidate in candidates)
        {
            if (reserved.Contains(candidate.Device)) continue;
            if (pools.TryGetValue(candidate.Device, out var pool) && pool.Count >= candidate.WorldSize)
            {
                gangs.Add((candidate.Id, Enumerable.Range(0, candidate.WorldSize).Select(_ => pool.Dequeue()).ToList()));
                waited.Add(candidate.Waited);
            }
            else if (candidate.Waited >= options.Value.ReserveAfter)
            {
                reserved.Add(candidate.Device);
                logger.LogDebug("Job {JobId} waits for {WorldSize} {Device} workers and reserves them", candidate.Id, candidate.WorldSize, candidate.Device);
            }
        }
        if (gangs.Count == 0) return (0, new Notifications(), []);
        return (gangs.Count, await StartAttemptsAsync(connection, gangs, cancellation), waited);
    }

    async Task<Notifications> StartAttemptsAsync(NpgsqlConnection connection, List<(Guid JobId, List<Guid> Workers)> gangs, CancellationToken cancellation)
    {
        var jobs = (await JobRepository.LoadManyForUpdateAsync(connection, gangs.Select(g => g.JobId).ToArray(), cancellation)).ToDictionary(j => j.Id);
        var attempts = new List<AttemptRepository.NewAttempt>();
        var notifications = new Notifications();
        foreach (var (jobId, workers) in gangs)
        {
            var job = jobs[jobId];
            // A job that never had an attempt has no checkpoint to resume from.
            var resume = job.Attempt == 0 ? null : await NewestIntactCheckpointAsync(connection, jobId, cancellation);
            var attempt = job.StartAttempt(resume?.Step ?? 0);
            var rendezvousId = Guid.NewGuid();
            attempts.Add(new(jobId, attempt, rendezvousId, resume?.Id, workers));
            var start = await AssignmentFactory.StartAsync(connection, job, 0, rendezvousId, resume, cancellation);
            for (var rank = 0; rank < workers.Count; rank++) notifications.Send(workers[rank], start with { Rank = rank });
            notifications.JobChanged(jobId, resume is null
                ? $"attempt {attempt} scheduled on {workers.Count} workers"
                : $"attempt {attempt} scheduled on {workers.Count} workers, resuming from step {resume.Step}");
            using (LogContext.PushProperty("JobId", jobId))
            using (LogContext.PushProperty("Attempt", attempt))
                logger.LogInformation("Job {JobId} attempt {Attempt} scheduled on workers {Workers}, resuming from step {ResumeStep}",
                    jobId, attempt, workers, resume?.Step ?? 0);
        }
        await AttemptRepository.InsertManyAsync(connection, attempts, cancellation);
        await WorkerRepository.AssignManyAsync(connection, attempts, cancellation);
        await JobRepository.SaveManyAsync(connection, gangs.Select(g => jobs[g.JobId]).ToList(), JobState.Queued, cancellation);
        return notifications;
    }

    /// <summary>
    /// The newest checkpoint (manifests are only ever complete) whose every shard is still in the artifact store with its recorded hash; a checkpoint
    /// with a missing, truncated or corrupt shard is passed over (and logged), so the resume falls back to an older one.
    /// </summary>
    async Task<CheckpointManifest?> NewestIntactCheckpointAsync(NpgsqlConnection connection, Guid jobId, CancellationToken cancellation)
    {
        foreach (var checkpoint in await CheckpointRepository.ListAsync(connection, jobId, cancellation))
        {
            var broken = checkpoint.ShardArtifacts.Where(a => !artifacts.Verify(a["artifact:".Length..])).ToList();
            if (broken.Count == 0) return checkpoint;
            logger.LogWarning("Job {JobId}: checkpoint {CheckpointId} at step {Step} has missing or corrupt shards {Shards}; resuming from an older one",
                jobId, checkpoint.Id, checkpoint.Step, broken);
        }
        return null;
    }

    /// <summary>Queued jobs whose input job failed, was cancelled, or succeeded without a model can never run: FAILED.</summary>
    async Task FailUnsatisfiableAsync(CancellationToken cancellation)
    {
        if (!await database.ReadAsync((connection, token) => connection.QuerySingleOrDefaultAsync($"SELECT EXISTS ({BlockedJobs})",
                r => r.GetBoolean(0), token), cancellation))
            return;
        var notifications = await database.TransactAsync(async (connection, token) =>
        {
            var blocked = await connection.QueryAsync(BlockedJobs + " FOR UPDATE OF j SKIP LOCKED", r => (Job: r.GetGuid(0), Input: r.GetGuid(1), State: r.GetString(2)), token);
            var notes = new Notifications();
            foreach (var (jobId, input, state) in blocked.DistinctBy(b => b.Job))
            {
                var job = (await JobRepository.LoadForUpdateAsync(connection, jobId, token))!;
                job.Fail(state == "SUCCEEDED" ? $"input job {input} produced no model" : $"input job {input} is {state}");
                await JobRepository.SaveAsync(connection, job, JobState.Queued, token);
                notes.JobChanged(jobId, job.FailureReason);
            }
            return notes;
        }, cancellation);
        await dispatcher.DispatchAsync(notifications, cancellation);
    }

    /// <summary>
    /// Queued jobs, each with an input job that failed, was cancelled, or succeeded without a model. Only queued jobs
    /// with inputs are looked at (index <c>jobs_queued_dependent</c>): joined on <c>ANY(depends_on)</c> without that
    /// filter, a stale plan compared every queued job with every job, which took 6.7 s per pass with 6,000 queued.
    /// </summary>
    const string BlockedJobs = """
        SELECT j.id, d.id, d.state FROM jobs j JOIN jobs d ON d.id = ANY(j.depends_on)
        WHERE j.state = 'QUEUED' AND j.depends_on <> '{}' AND (d.state IN ('FAILED', 'CANCELLED') OR (d.state = 'SUCCEEDED' AND d.result_artifact = ''))
        """;
}
