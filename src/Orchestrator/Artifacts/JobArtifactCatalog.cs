using System.Globalization;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;

namespace SpectralDiffusion.Orchestrator.Artifacts;

/// <summary>One artifact of a job as its users see it, with its size and SHA-256.</summary>
public sealed record JobArtifactEntry(string Name, string Kind, long Step, long Size, string Sha256, int Rank = 0, int WorldSize = 0);

/// <summary>An artifact ready to stream: its entry and its content.</summary>
public sealed record JobArtifactDownload(JobArtifactEntry Entry, ArtifactContent Content);

/// <summary>
/// What a job produced, by name: its final model (<c>model.safetensors</c>), each checkpoint consolidated into one file
/// (<c>checkpoint-STEP.safetensors</c>) and shard by shard (<c>checkpoint-STEP/shard-R-of-W.safetensors</c>), and the
/// files it published (evaluation reports, plots, sample grids). Unknown jobs, steps and names are NOT_FOUND naming them.
/// A consolidated checkpoint's SHA-256 is computed the first time it is listed or opened (one read of its shards) and kept
/// in <c>checkpoints.consolidated_sha256</c>, so every later listing and download has it without reading the shards.
/// </summary>
public sealed class JobArtifactCatalog(Database database, ArtifactStore store)
{
    public const string ModelName = "model.safetensors";
    public const string Model = "model", Checkpoint = "checkpoint", CheckpointShard = "checkpoint_shard", File = "file";

    public static string CheckpointName(long step) => $"checkpoint-{step}.safetensors";
    public static string ShardName(long step, int rank, int worldSize) => $"checkpoint-{step}/shard-{rank}-of-{worldSize}.safetensors";

    /// <summary>The plain file name an artifact is saved as (<c>checkpoint-20/shard-0-of-2.safetensors</c> becomes
    /// <c>checkpoint-20-shard-0-of-2.safetensors</c>): never a path.</summary>
    public static string FileNameOf(string name) => Path.GetFileName(name.Replace('/', '-'));

    public async Task<IReadOnlyList<JobArtifactEntry>> ListAsync(Guid jobId, CancellationToken cancellation)
    {
        var recorded = await LoadAsync(jobId, cancellation);
        var entries = new List<JobArtifactEntry>();
        if (recorded.Model is { } model) entries.Add(model);
        foreach (var checkpoint in recorded.Checkpoints)
        {
            // Shards that cannot be merged (damaged, or not written by a worker) are still listed one by one; downloading
            // the whole checkpoint then says why it cannot be had.
            if (await TryConsolidatedAsync(checkpoint, cancellation) is { } whole) entries.Add(whole.Entry);
            entries.AddRange(checkpoint.Shards);
        }
        entries.AddRange(recorded.Files);
        return entries;
    }

    /// <summary>
    /// Resolves <paramref name="what"/>: a listed name, or <c>model</c>, <c>checkpoint</c> (the newest), <c>checkpoint:STEP</c>.
    /// </summary>
    public async Task<JobArtifactDownload> OpenAsync(Guid jobId, string what, CancellationToken cancellation)
    {
        var recorded = await LoadAsync(jobId, cancellation);
        if (what is Model or ModelName)
            return recorded.Model is { } model ? Stored(model)
                : throw OrchestratorException.NotFound($"job {jobId} has no final model (it is {recorded.State}; a train or distill job has one once it succeeds)");
        if (CheckpointStep(what, recorded) is { } step)
        {
            var checkpoint = recorded.Checkpoints.FirstOrDefault(c => c.Step == step)
                ?? throw OrchestratorException.NotFound($"job {jobId} has no checkpoint of step {step}; {Steps(recorded)}");
            return await ConsolidatedAsync(checkpoint, cancellation);
        }
        var named = recorded.Checkpoints.SelectMany(c => c.Shards).Concat(recorded.Files).FirstOrDefault(e => e.Name == what)
            ?? throw OrchestratorException.NotFound($"job {jobId} has no artifact '{Shared.Jobs.Echo.Short(what)}'; `orchestrator artifacts {jobId}` lists them");
        return Stored(named);
    }

    /// <summary>The step <paramref name="what"/> names as a whole checkpoint, or null when it names something else.</summary>
    static long? CheckpointStep(string what, Recorded recorded)
    {
        if (what == Checkpoint)
            return recorded.Checkpoints.Count > 0 ? recorded.Checkpoints[0].Step
                : throw OrchestratorException.NotFound($"job {recorded.JobId} has no complete checkpoint yet");
        var step = what.StartsWith("checkpoint:", StringComparison.Ordinal) ? what["checkpoint:".Length..]
            : what.StartsWith("checkpoint-", StringComparison.Ordinal) && what.EndsWith(".safetensors", StringComparison.Ordinal) && !what.Contains('/')
                ? what["checkpoint-".Length..^".safetensors".Length] : null;
        if (step is null) return null;
        return long.TryParse(step, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed
            : throw OrchestratorException.Invalid("what", $"'{Shared.Jobs.Echo.Short(what)}' does not name a step: use checkpoint:STEP with STEP a whole number");
    }

    static string Steps(Recorded recorded) => recorded.Checkpoints.Count == 0 ? "it has none yet"
        : "its checkpoints are of steps " + string.Join(", ", recorded.Checkpoints.Select(c => c.Step).Order());

    JobArtifactDownload Stored(JobArtifactEntry entry)
    {
        if (!store.Exists(entry.Sha256))
            throw new OrchestratorException(OrchestratorErrorKind.DataLoss, $"{entry.Name} (sha256 {entry.Sha256}) is recorded but missing from {store.Root}");
        return new JobArtifactDownload(entry, ArtifactContent.WholeFile(store.PathOf(entry.Sha256)));
    }

    /// <summary>The checkpoint's shards merged into one file, with its SHA-256: the recorded one, or computed now and recorded.</summary>
    async Task<JobArtifactDownload> ConsolidatedAsync(RecordedCheckpoint checkpoint, CancellationToken cancellation)
    {
        var missing = checkpoint.Shards.FirstOrDefault(s => !store.Exists(s.Sha256));
        if (missing is not null)
            throw new OrchestratorException(OrchestratorErrorKind.DataLoss, $"{missing.Name} (sha256 {missing.Sha256}) is recorded but missing from {store.Root}");
        var content = CheckpointConsolidation.Plan(checkpoint.Shards.Select(s => store.PathOf(s.Sha256)).ToList());
        var sha256 = checkpoint.ConsolidatedSha256;
        if (sha256 is null)
        {
            sha256 = await content.Sha256Async(cancellation);
            // Two readers that hash at once write the same value; the first one stays.
            await database.StatementAsync((connection, token) => connection.ExecuteAsync(
                "UPDATE checkpoints SET consolidated_sha256 = @sha WHERE id = @id AND consolidated_sha256 IS NULL",
                token, ("sha", sha256), ("id", checkpoint.Id)), cancellation);
        }
        var entry = new JobArtifactEntry(CheckpointName(checkpoint.Step), Checkpoint, checkpoint.Step, content.Size, sha256, WorldSize: checkpoint.Shards.Count);
        return new JobArtifactDownload(entry, content);
    }

    async Task<JobArtifactDownload?> TryConsolidatedAsync(RecordedCheckpoint checkpoint, CancellationToken cancellation)
    {
        try { return await ConsolidatedAsync(checkpoint, cancellation); }
        catch (OrchestratorException e) when (e.Kind == OrchestratorErrorKind.DataLoss) { return null; }
        catch (IOException) { return null; }
    }

    sealed record RecordedCheckpoint(Guid Id, long Step, string? ConsolidatedSha256, List<JobArtifactEntry> Shards);
    sealed record Recorded(Guid JobId, string State, JobArtifactEntry? Model, List<RecordedCheckpoint> Checkpoints, List<JobArtifactEntry> Files);

    /// <summary>The job's rows: its model, its complete checkpoints newest first (of a step written twice, the later attempt's), its files.</summary>
    Task<Recorded> LoadAsync(Guid jobId, CancellationToken cancellation) => database.ReadAsync(async (connection, token) =>
    {
        var job = await connection.QuerySingleOrDefaultAsync("""
            SELECT j.state, a.sha256, a.size FROM jobs j LEFT JOIN artifacts a ON 'artifact:' || a.sha256 = j.result_artifact WHERE j.id = @job
            """, r => (State: r.GetString(0), Sha256: r.IsDBNull(1) ? null : r.GetString(1), Size: r.IsDBNull(2) ? 0 : r.GetInt64(2)), token, ("job", jobId));
        if (job.State is null) throw OrchestratorException.NotFound($"job {jobId} does not exist");
        var shards = await connection.QueryAsync("""
            SELECT c.step, c.attempt, c.world_size, s.rank, s.sha256, s.size, c.id, c.consolidated_sha256
            FROM checkpoints c JOIN checkpoint_shards s ON s.checkpoint_id = c.id
            WHERE c.job_id = @job
            ORDER BY c.step DESC, c.attempt DESC, s.rank
            """, r => (Step: r.GetInt64(0), Attempt: r.GetInt32(1), Id: r.GetGuid(6), Sha256: r.IsDBNull(7) ? null : r.GetString(7), Shard: new JobArtifactEntry(ShardName(r.GetInt64(0), r.GetInt32(3), r.GetInt32(2)),
                CheckpointShard, r.GetInt64(0), r.GetInt64(5), r.GetString(4), r.GetInt32(3), r.GetInt32(2))), token, ("job", jobId));
        var files = await connection.QueryAsync("SELECT name, sha256, size FROM job_files WHERE job_id = @job ORDER BY name",
            r => new JobArtifactEntry(r.GetString(0), File, 0, r.GetInt64(2), r.GetString(1)), token, ("job", jobId));
        var checkpoints = shards.GroupBy(s => s.Step)
            .Select(step => step.Where(s => s.Attempt == step.First().Attempt).ToList())
            .Select(shardsOf => new RecordedCheckpoint(shardsOf[0].Id, shardsOf[0].Step, shardsOf[0].Sha256, shardsOf.Select(s => s.Shard).ToList()))
            .ToList();
        var model = job.Sha256 is null ? null : new JobArtifactEntry(ModelName, Model, 0, job.Size, job.Sha256);
        return new Recorded(jobId, job.State, model, checkpoints, files);
    }, cancellation);
}
