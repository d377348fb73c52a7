using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;

namespace SpectralDiffusion.Orchestrator.RankLogs;

/// <summary>One line as a rank shipped it; the text is raw bytes until <see cref="LogText"/> makes it storable.</summary>
public sealed record ShippedLine(DateTime Time, string Level, ReadOnlyMemory<byte> Text);

/// <summary>One batch of one rank's lines of one attempt, from the worker that runs (or ran) that rank.</summary>
public sealed record LogBatchIn(Guid WorkerId, Guid JobId, int Attempt, int Rank, IReadOnlyList<ShippedLine> Lines, long Dropped);

/// <summary>
/// Stores shipped log lines under the cap of <see cref="LogOptions"/>: the stream's counter numbers each line, only lines
/// in the head or the tail window are written, and lines the tail has moved past are deleted in the same transaction. A
/// flood therefore costs a counter increment per batch and never more than head + tail rows per rank.
/// </summary>
public sealed class LogIntake(Database database, IOptions<LogOptions> options)
{
    /// <summary>Appends the batch; returns how many of its lines were kept. Only the worker recorded for that rank may ship it.</summary>
    public async Task<long> AppendAsync(LogBatchIn batch, CancellationToken cancellation)
    {
        if (batch.Lines.Count > LogOptions.MaxBatchLines)
            throw OrchestratorException.Invalid("lines", $"has {batch.Lines.Count} lines; at most {LogOptions.MaxBatchLines} a batch");
        if (batch.Dropped < 0) throw OrchestratorException.Invalid("dropped", $"is {batch.Dropped}; must not be negative");
        var settings = options.Value;
        var lines = batch.Lines.Select(l => (Time: DateTime.SpecifyKind(l.Time, DateTimeKind.Utc), Level: LogText.Level(l.Level),
            Text: LogText.Storable(l.Text.Span, settings.LogLineChars))).ToList();
        return await database.TransactAsync(async (connection, token) =>
        {
            await CheckRankAsync(connection, batch, token);
            var received = await connection.QuerySingleOrDefaultAsync("""
                INSERT INTO job_log_streams (job_id, attempt, rank, received, dropped) VALUES (@job, @attempt, @rank, @count, @dropped)
                ON CONFLICT (job_id, attempt, rank) DO UPDATE
                SET received = job_log_streams.received + @count, dropped = job_log_streams.dropped + @dropped
                RETURNING received
                """, r => r.GetInt64(0), token, ("job", batch.JobId), ("attempt", batch.Attempt), ("rank", batch.Rank),
                ("count", (long)lines.Count), ("dropped", batch.Dropped));
            var first = received - lines.Count + 1;
            var tailStart = received - settings.LogTailLines;   // lines numbered above this are in the tail
            var kept = Enumerable.Range(0, lines.Count).Where(i => first + i <= settings.LogHeadLines || first + i > tailStart).ToList();
            if (kept.Count > 0)
                await connection.ExecuteAsync("""
                    INSERT INTO job_log_lines (job_id, attempt, rank, sequence, logged_at, level, text)
                    SELECT @job, @attempt, @rank, s, t, l, x FROM unnest(@sequences, @times, @levels, @texts) AS u(s, t, l, x)
                    """, token, ("job", batch.JobId), ("attempt", batch.Attempt), ("rank", batch.Rank),
                    ("sequences", kept.Select(i => first + i).ToArray()),
                    ("times", new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, Value = kept.Select(i => lines[i].Time).ToArray() }),
                    ("levels", kept.Select(i => lines[i].Level).ToArray()), ("texts", kept.Select(i => lines[i].Text).ToArray()));
            if (tailStart > settings.LogHeadLines)
                await connection.ExecuteAsync("""
                    DELETE FROM job_log_lines
                    WHERE job_id = @job AND attempt = @attempt AND rank = @rank AND sequence > @head AND sequence <= @tailStart
                    """, token, ("job", batch.JobId), ("attempt", batch.Attempt), ("rank", batch.Rank),
                    ("head", (long)settings.LogHeadLines), ("tailStart", tailStart));
            return (long)kept.Count;
        }, cancellation);
    }

    /// <summary>The caller must be the worker recorded for the rank (the attempt may have ended: its last lines still count).</summary>
    static async Task CheckRankAsync(NpgsqlConnection connection, LogBatchIn batch, CancellationToken cancellation)
    {
        var worker = await connection.QuerySingleOrDefaultAsync<Guid?>("""
            SELECT worker_id FROM attempt_ranks WHERE job_id = @job AND attempt = @attempt AND rank = @rank
            """, r => r.GetGuid(0), cancellation, ("job", batch.JobId), ("attempt", batch.Attempt), ("rank", batch.Rank));
        if (worker == batch.WorkerId) return;
        if (worker is null && await LogReader.JobAsync(connection, batch.JobId, cancellation) is null)
            throw OrchestratorException.NotFound($"job {batch.JobId} does not exist");
        throw new OrchestratorException(OrchestratorErrorKind.PermissionDenied,
            $"worker {batch.WorkerId} does not run rank {batch.Rank} of job {batch.JobId} attempt {batch.Attempt}");
    }
}
