using Npgsql;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>The attempts and attempt_ranks tables: one row per scheduling of a job, one per rank with its worker and result.</summary>
public static class AttemptRepository
{
    public sealed record Rank(int Index, Guid WorkerId, bool Completed, bool Succeeded, string FinalArtifact);

    /// <summary>A new attempt of a job: its rendezvous, the checkpoint it resumes from, and its workers in rank order.</summary>
    public sealed record NewAttempt(Guid JobId, int Attempt, Guid RendezvousId, Guid? ResumeCheckpointId, IReadOnlyList<Guid> WorkersByRank);

    /// <summary>Inserts the attempts and all their ranks in one round trip.</summary>
    public static async Task InsertManyAsync(NpgsqlConnection connection, IReadOnlyList<NewAttempt> attempts, CancellationToken cancellation)
    {
        var ranks = attempts.SelectMany(a => a.WorkersByRank.Select((worker, rank) => (a.JobId, a.Attempt, Rank: rank, Worker: worker))).ToList();
        await connection.ExecuteAsync("""
            INSERT INTO attempts (job_id, attempt, state, world_size, rendezvous_id, resume_checkpoint_id)
            SELECT a.job_id, a.attempt, 'scheduled', a.world_size, a.rendezvous_id, a.resume_checkpoint_id
            FROM unnest(@jobs, @attempts, @world_sizes, @rendezvous, @resume) AS a (job_id, attempt, world_size, rendezvous_id, resume_checkpoint_id);
            INSERT INTO attempt_ranks (job_id, attempt, rank, worker_id)
            SELECT * FROM unnest(@rank_jobs, @rank_attempts, @ranks, @rank_workers);
            """, cancellation,
            ("jobs", attempts.Select(a => a.JobId).ToArray()), ("attempts", attempts.Select(a => a.Attempt).ToArray()),
            ("world_sizes", attempts.Select(a => a.WorkersByRank.Count).ToArray()), ("rendezvous", attempts.Select(a => a.RendezvousId).ToArray()),
            ("resume", attempts.Select(a => a.ResumeCheckpointId).ToArray()),
            ("rank_jobs", ranks.Select(r => r.JobId).ToArray()), ("rank_attempts", ranks.Select(r => r.Attempt).ToArray()),
            ("ranks", ranks.Select(r => r.Rank).ToArray()), ("rank_workers", ranks.Select(r => r.Worker).ToArray()));
    }

    public static Task MarkRunningAsync(NpgsqlConnection connection, Guid jobId, int attempt, CancellationToken cancellation) =>
        connection.ExecuteAsync("UPDATE attempts SET state = 'running' WHERE job_id = @job AND attempt = @attempt AND state = 'scheduled'",
            cancellation, ("job", jobId), ("attempt", attempt));

    /// <summary>
    /// Ends a live attempt (succeeded, aborted or cancelled) and deletes its rendezvous keys; returns its rendezvous id, or
    /// null when it was not live.
    /// </summary>
    public static Task<Guid?> EndAsync(NpgsqlConnection connection, Guid jobId, int attempt, string state, string reason,
        CancellationToken cancellation) =>
        connection.QuerySingleOrDefaultAsync<Guid?>("""
            WITH ended AS (
                UPDATE attempts SET state = @state, ended_at = now(), end_reason = @reason
                WHERE job_id = @job AND attempt = @attempt AND state IN ('scheduled', 'running')
                RETURNING rendezvous_id),
            forgotten AS (DELETE FROM rendezvous_keys k USING ended WHERE k.rendezvous_id = ended.rendezvous_id)
            SELECT rendezvous_id FROM ended
            """, r => r.GetGuid(0), cancellation, ("job", jobId), ("attempt", attempt), ("state", state), ("reason", reason));

    public static Task<List<Rank>> RanksAsync(NpgsqlConnection connection, Guid jobId, int attempt, CancellationToken cancellation) =>
        connection.QueryAsync("""
            SELECT rank, worker_id, completed, succeeded, final_artifact FROM attempt_ranks
            WHERE job_id = @job AND attempt = @attempt ORDER BY rank
            """, r => new Rank(r.GetInt32(0), r.GetGuid(1), r.GetBoolean(2), r.GetBoolean(3), r.GetString(4)),
            cancellation, ("job", jobId), ("attempt", attempt));

    /// <summary>Records one rank's result; false when that rank is not run by <paramref name="workerId"/>.</summary>
    public static async Task<bool> CompleteRankAsync(NpgsqlConnection connection, Guid jobId, int attempt, int rank, Guid workerId,
        bool succeeded, string error, string finalArtifact, CancellationToken cancellation) =>
        await connection.ExecuteAsync("""
            UPDATE attempt_ranks SET completed = true, succeeded = @succeeded, error = @error, final_artifact = @artifact
            WHERE job_id = @job AND attempt = @attempt AND rank = @rank AND worker_id = @worker
            """, cancellation, ("job", jobId), ("attempt", attempt), ("rank", rank), ("worker", workerId),
            ("succeeded", succeeded), ("error", error), ("artifact", finalArtifact)) == 1;

    public static Task<(Guid RendezvousId, Guid? ResumeCheckpointId)?> LiveAsync(NpgsqlConnection connection, Guid jobId, int attempt,
        CancellationToken cancellation) =>
        connection.QuerySingleOrDefaultAsync<(Guid, Guid?)?>("""
            SELECT rendezvous_id, resume_checkpoint_id FROM attempts
            WHERE job_id = @job AND attempt = @attempt AND state IN ('scheduled', 'running')
            """, r => (r.GetGuid(0), r.IsDBNull(1) ? null : r.GetGuid(1)), cancellation, ("job", jobId), ("attempt", attempt));
}
