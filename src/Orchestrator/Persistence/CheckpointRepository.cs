using Google.Protobuf.WellKnownTypes;
using Npgsql;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>
/// Checkpoint manifests and their shards. A shard joins the manifest of (job, attempt, step); the manifest row is locked
/// while the shard is added, and flips to complete in the same transaction that stores its last shard.
/// </summary>
public static class CheckpointRepository
{
    public sealed record ShardOutcome(Guid CheckpointId, bool CompletedNow, string? Conflict);

    public static async Task<ShardOutcome> AddShardAsync(NpgsqlConnection connection, Guid jobId, int attempt, long step, int worldSize,
        int rank, string sha256, long size, CancellationToken cancellation)
    {
        await connection.ExecuteAsync("""
            INSERT INTO checkpoints (id, job_id, attempt, step, world_size) VALUES (@id, @job, @attempt, @step, @world_size)
            ON CONFLICT (job_id, attempt, step) DO NOTHING
            """, cancellation, ("id", Guid.CreateVersion7()), ("job", jobId), ("attempt", attempt), ("step", step), ("world_size", worldSize));
        var (checkpointId, manifestWorldSize, complete) = (await connection.QuerySingleOrDefaultAsync(
            "SELECT id, world_size, complete FROM checkpoints WHERE job_id = @job AND attempt = @attempt AND step = @step FOR UPDATE",
            r => (r.GetGuid(0), r.GetInt32(1), r.GetBoolean(2)), cancellation, ("job", jobId), ("attempt", attempt), ("step", step)));
        if (manifestWorldSize != worldSize)
            return new(checkpointId, false, $"the checkpoint of step {step} has world size {manifestWorldSize}, this shard says {worldSize}");

        var existing = await connection.QuerySingleOrDefaultAsync(
            "SELECT sha256 FROM checkpoint_shards WHERE checkpoint_id = @id AND rank = @rank",
            r => r.GetString(0), cancellation, ("id", checkpointId), ("rank", rank));
        if (existing is not null)
            return existing == sha256
                ? new(checkpointId, false, null)
                : new(checkpointId, false, $"rank {rank}'s shard of step {step} is already stored with sha256 {existing}");

        await connection.ExecuteAsync("INSERT INTO checkpoint_shards (checkpoint_id, rank, sha256, size) VALUES (@id, @rank, @sha, @size)",
            cancellation, ("id", checkpointId), ("rank", rank), ("sha", sha256), ("size", size));
        var completedNow = !complete && await connection.ExecuteAsync("""
            UPDATE checkpoints c SET complete = true, completed_at = now()
            WHERE c.id = @id AND NOT c.complete AND (SELECT count(*) FROM checkpoint_shards s WHERE s.checkpoint_id = c.id) = c.world_size
            """, cancellation, ("id", checkpointId)) == 1;
        return new(checkpointId, completedNow, null);
    }

    public static async Task<CheckpointRef?> GetAsync(NpgsqlConnection connection, Guid checkpointId, CancellationToken cancellation) =>
        (await connection.QueryAsync(SelectManifest + " WHERE c.id = @id", Read, cancellation, ("id", checkpointId), ("complete_only", false)))
            .FirstOrDefault() is { } checkpoint ? ToRef(checkpoint) : null;

    public static Task<List<Checkpoint>> ListAsync(NpgsqlConnection connection, Guid jobId, CancellationToken cancellation, bool completeOnly = false) =>
        connection.QueryAsync(SelectManifest + """
             WHERE c.job_id = @job AND (c.complete OR NOT @complete_only)
             ORDER BY c.step DESC, c.attempt DESC
            """, Read, cancellation, ("job", jobId), ("complete_only", completeOnly));

    const string SelectManifest = """
        SELECT c.id, c.job_id, c.attempt, c.step, c.world_size, c.complete, c.created_at,
               ARRAY(SELECT 'artifact:' || s.sha256 FROM checkpoint_shards s WHERE s.checkpoint_id = c.id ORDER BY s.rank)
        FROM checkpoints c
        """;

    static Checkpoint Read(NpgsqlDataReader r)
    {
        var checkpoint = new Checkpoint
        {
            CheckpointId = r.GetGuid(0).ToString(), JobId = r.GetGuid(1).ToString(), Attempt = r.GetInt32(2), Step = r.GetInt64(3),
            WorldSize = r.GetInt32(4), Complete = r.GetBoolean(5), CreatedAt = Timestamp.FromDateTime(r.GetDateTime(6)),
        };
        checkpoint.ShardArtifacts.AddRange(r.GetFieldValue<string[]>(7));
        return checkpoint;
    }

    public static CheckpointRef ToRef(Checkpoint checkpoint) => new()
    {
        CheckpointId = checkpoint.CheckpointId, Step = checkpoint.Step, WorldSize = checkpoint.WorldSize,
        ShardArtifacts = { checkpoint.ShardArtifacts },
    };
}
