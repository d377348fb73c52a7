using Npgsql;
using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>
/// Checkpoint manifests and their shards. A manifest is written whole: shards wait in <c>checkpoint_uploads</c>, and the
/// upload that brings the last of <c>world_size</c> shards writes the manifest and its shards in the same transaction.
/// So every <c>checkpoints</c> row is complete (a constraint says so), and an interrupted checkpoint is never resumed from.
/// </summary>
public static class CheckpointRepository
{
    /// <summary>The manifest's id once complete (null while shards are missing), whether this shard completed it, or a conflict.</summary>
    public sealed record ShardOutcome(Guid? CheckpointId, bool CompletedNow, string? Conflict);

    /// <summary>Adds one rank's shard of the checkpoint of (job, attempt, step); the same shard sent again changes nothing.</summary>
    public static async Task<ShardOutcome> AddShardAsync(NpgsqlConnection connection, Guid jobId, int attempt, long step, int worldSize,
        int rank, string sha256, long size, CancellationToken cancellation)
    {
        // The job's row lock orders the shards of its checkpoints: exactly one upload sees the last shard arrive.
        await connection.ExecuteAsync("SELECT 1 FROM jobs WHERE id = @job FOR UPDATE", cancellation, ("job", jobId));
        var key = new (string, object?)[] { ("job", jobId), ("attempt", attempt), ("step", step) };
        if (await connection.QuerySingleOrDefaultAsync<(Guid, int)?>(
                "SELECT id, world_size FROM checkpoints WHERE job_id = @job AND attempt = @attempt AND step = @step",
                r => (r.GetGuid(0), r.GetInt32(1)), cancellation, key) is (Guid manifestId, int manifestWorldSize))
        {
            var stored = await connection.QuerySingleOrDefaultAsync("SELECT sha256 FROM checkpoint_shards WHERE checkpoint_id = @id AND rank = @rank",
                r => r.GetString(0), cancellation, ("id", manifestId), ("rank", rank));
            return new(manifestId, false, Conflict(step, rank, worldSize, manifestWorldSize, sha256, stored));
        }

        var uploads = await connection.QueryAsync("""
            SELECT rank, world_size, sha256 FROM checkpoint_uploads WHERE job_id = @job AND attempt = @attempt AND step = @step
            """, r => (Rank: r.GetInt32(0), WorldSize: r.GetInt32(1), Sha256: r.GetString(2)), cancellation, key);
        var sentBefore = uploads.FirstOrDefault(u => u.Rank == rank).Sha256;
        if (Conflict(step, rank, worldSize, uploads.Count > 0 ? uploads[0].WorldSize : worldSize, sha256, sentBefore) is { } conflict)
            return new(null, false, conflict);
        if (sentBefore is not null) return new(null, false, null);

        await connection.ExecuteAsync("""
            INSERT INTO checkpoint_uploads (job_id, attempt, step, world_size, rank, sha256, size)
            VALUES (@job, @attempt, @step, @world_size, @rank, @sha, @size)
            """, cancellation, [.. key, ("world_size", worldSize), ("rank", rank), ("sha", sha256), ("size", size)]);
        if (uploads.Count + 1 < worldSize) return new(null, false, null);

        var checkpointId = Guid.CreateVersion7();
        await connection.ExecuteAsync("""
            INSERT INTO checkpoints (id, job_id, attempt, step, world_size, complete, completed_at)
            VALUES (@id, @job, @attempt, @step, @world_size, true, now());
            INSERT INTO checkpoint_shards (checkpoint_id, rank, sha256, size, created_at)
            SELECT @id, rank, sha256, size, created_at FROM checkpoint_uploads WHERE job_id = @job AND attempt = @attempt AND step = @step;
            DELETE FROM checkpoint_uploads WHERE job_id = @job AND attempt = @attempt AND step = @step;
            """, cancellation, [.. key, ("id", checkpointId), ("world_size", worldSize)]);
        return new(checkpointId, true, null);
    }

    /// <summary>Why a shard cannot join: another world size, or this rank's shard already stored with other content; null when it can.</summary>
    static string? Conflict(long step, int rank, int worldSize, int recordedWorldSize, string sha256, string? storedSha256) =>
        recordedWorldSize != worldSize ? $"the checkpoint of step {step} has world size {recordedWorldSize}, this shard says {worldSize}"
        : storedSha256 is not null && storedSha256 != sha256 ? $"rank {rank}'s shard of step {step} is already stored with sha256 {storedSha256}"
        : null;

    public static async Task<CheckpointManifest?> GetAsync(NpgsqlConnection connection, Guid checkpointId, CancellationToken cancellation) =>
        (await connection.QueryAsync(SelectManifest + " WHERE c.id = @id", Read, cancellation, ("id", checkpointId))).FirstOrDefault();

    /// <summary>The job's checkpoints (all complete), newest first.</summary>
    public static Task<List<CheckpointManifest>> ListAsync(NpgsqlConnection connection, Guid jobId, CancellationToken cancellation) =>
        connection.QueryAsync(SelectManifest + """
             WHERE c.job_id = @job
             ORDER BY c.step DESC, c.attempt DESC
            """, Read, cancellation, ("job", jobId));

    const string SelectManifest = """
        SELECT c.id, c.job_id, c.attempt, c.step, c.world_size, c.complete, c.created_at,
               ARRAY(SELECT 'artifact:' || s.sha256 FROM checkpoint_shards s WHERE s.checkpoint_id = c.id ORDER BY s.rank)
        FROM checkpoints c
        """;

    static CheckpointManifest Read(NpgsqlDataReader r) =>
        new(r.GetGuid(0), r.GetGuid(1), r.GetInt32(2), r.GetInt64(3), r.GetInt32(4), r.GetBoolean(5), r.GetDateTime(6), r.GetFieldValue<string[]>(7));
}
