using Npgsql;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;

namespace SpectralDiffusion.Orchestrator.RankLogs;

/// <summary>A stored line; <see cref="Id"/> is its place in arrival order across ranks (readers resume after it).</summary>
public sealed record StoredLogLine(long Id, int Attempt, int Rank, long Sequence, DateTime Time, string Level, string Text);

/// <summary>Which lines of a job to read: every attempt or rank when null.</summary>
public sealed record LogFilter(Guid JobId, int? Attempt, int? Rank);

/// <summary>A job's latest attempt and whether it has ended.</summary>
public sealed record LogJob(int Attempt, bool Ended);

/// <summary>
/// Reads a job's stored lines in arrival order, a page at a time after a cursor, and the last lines of a failed rank. Each
/// filter is checked first: an unknown job, attempt or rank is NOT_FOUND naming it.
/// </summary>
public sealed class LogReader(Database database)
{
    public const int PageLines = 500;

    /// <summary>The job the filter names; NOT_FOUND when the job, its attempt or its rank does not exist.</summary>
    public Task<LogJob> CheckAsync(LogFilter filter, CancellationToken cancellation) =>
        database.ReadAsync(async (connection, token) =>
        {
            var job = await JobAsync(connection, filter.JobId, token) ?? throw OrchestratorException.NotFound($"job {filter.JobId} does not exist");
            if (filter.Attempt is { } attempt && (attempt < 1 || attempt > job.Attempt))
                throw OrchestratorException.NotFound($"job {filter.JobId} has no attempt {attempt} " +
                                                     (job.Attempt == 0 ? "(it was never scheduled)" : $"(attempts 1 to {job.Attempt})"));
            if (filter.Rank is { } rank)
            {
                var ranks = await connection.QuerySingleOrDefaultAsync("""
                    SELECT count(DISTINCT rank) FILTER (WHERE rank = @rank), max(rank) FROM attempt_ranks
                    WHERE job_id = @job AND (@attempt::int IS NULL OR attempt = @attempt)
                    """, r => (Found: r.GetInt64(0), Highest: r.IsDBNull(1) ? -1 : r.GetInt32(1)), token,
                    ("job", filter.JobId), ("rank", rank), ("attempt", filter.Attempt));
                if (ranks.Found == 0)
                    throw OrchestratorException.NotFound($"job {filter.JobId} " + (filter.Attempt is { } a ? $"attempt {a} " : "") + $"has no rank {rank} " +
                                                         (ranks.Highest < 0 ? "(no rank was scheduled)" : $"(ranks 0 to {ranks.Highest})"));
            }
            return job;
        }, cancellation);

    /// <summary>Up to <paramref name="limit"/> lines after <paramref name="afterId"/>, in arrival order.</summary>
    public Task<List<StoredLogLine>> PageAsync(LogFilter filter, long afterId, int limit, CancellationToken cancellation) =>
        database.ReadAsync((connection, token) => connection.QueryAsync("""
            SELECT id, attempt, rank, sequence, logged_at, level, text FROM job_log_lines
            WHERE job_id = @job AND id > @after AND (@attempt::int IS NULL OR attempt = @attempt) AND (@rank::int IS NULL OR rank = @rank)
            ORDER BY id LIMIT @limit
            """, Line, token, ("job", filter.JobId), ("after", afterId), ("attempt", filter.Attempt), ("rank", filter.Rank), ("limit", limit)),
            cancellation);

    /// <summary>The rank of the job's latest attempt that reported a failure, and its last <paramref name="count"/> lines (oldest first).</summary>
    public Task<(int Attempt, int Rank, List<StoredLogLine> Lines)?> FailedRankTailAsync(Guid jobId, int count, CancellationToken cancellation) =>
        database.ReadAsync(async (connection, token) =>
        {
            var failed = await connection.QuerySingleOrDefaultAsync<(int, int)?>("""
                SELECT attempt, rank FROM attempt_ranks WHERE job_id = @job AND completed AND NOT succeeded
                ORDER BY attempt DESC, rank LIMIT 1
                """, r => (r.GetInt32(0), r.GetInt32(1)), token, ("job", jobId));
            if (failed is not var (attempt, rank)) return ((int, int, List<StoredLogLine>)?)null;
            var lines = await connection.QueryAsync("""
                SELECT id, attempt, rank, sequence, logged_at, level, text FROM job_log_lines
                WHERE job_id = @job AND attempt = @attempt AND rank = @rank ORDER BY sequence DESC LIMIT @count
                """, Line, token, ("job", jobId), ("attempt", attempt), ("rank", rank), ("count", count));
            lines.Reverse();
            return (attempt, rank, lines);
        }, cancellation);

    public Task<LogJob?> JobAsync(Guid jobId, CancellationToken cancellation) =>
        database.ReadAsync((connection, token) => JobAsync(connection, jobId, token), cancellation);

    internal static Task<LogJob?> JobAsync(NpgsqlConnection connection, Guid jobId, CancellationToken cancellation) =>
        connection.QuerySingleOrDefaultAsync<LogJob?>("SELECT attempt, state FROM jobs WHERE id = @job",
            r => new LogJob(r.GetInt32(0), Job.IsTerminalState(JobStates.Parse(r.GetString(1)))), cancellation, ("job", jobId));

    static StoredLogLine Line(NpgsqlDataReader r) =>
        new(r.GetInt64(0), r.GetInt32(1), r.GetInt32(2), r.GetInt64(3), r.GetDateTime(4), r.GetString(5), r.GetString(6));
}
