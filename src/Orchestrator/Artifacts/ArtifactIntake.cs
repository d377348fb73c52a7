using Serilog.Context;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;

namespace SpectralDiffusion.Orchestrator.Artifacts;

/// <summary>
/// Uploads: the header is checked, the content stored (hash and size verified), then recorded in one transaction. A
/// checkpoint shard waits beside the other shards of its checkpoint; the upload that brings the last one writes the
/// manifest whole. A named file of a job (a plot, a sample grid) is also recorded under its name for the dashboard.
/// Uploading the same content again is harmless.
/// </summary>
public sealed class ArtifactIntake(Database database, ArtifactStore store, ILogger<ArtifactIntake> logger)
{
    /// <param name="uploader">the authenticated worker: an artifact of a job must come from the worker that runs that rank.</param>
    public async Task<UploadReceipt> UploadAsync(ArtifactUpload header, Guid uploader, IAsyncEnumerable<ReadOnlyMemory<byte>> content,
        CancellationToken cancellation)
    {
        var jobId = await CheckHeaderAsync(header, cancellation);
        if (jobId is { } job) await CheckUploaderAsync(job, header, uploader, cancellation);
        await store.StoreAsync(content, header.Sha256, header.Size, cancellation);
        if (header.Kind == ArtifactUploadKind.File && header.Name.Length > 0) await CheckFileContentAsync(header, cancellation);
        var row = new ArtifactRepository.ArtifactRow(header.Sha256, header.Size, KindName(header.Kind!.Value), header.Name);
        try
        {
            var receipt = await database.TransactAsync(async (connection, token) =>
            {
                // A retention pass may have removed this content (stored before, so not written again) since it arrived.
                await ArtifactRemovalLock.ShareAsync(connection, token);
                if (!store.Exists(header.Sha256))
                    throw new OrchestratorException(OrchestratorErrorKind.Aborted, $"sha256 {header.Sha256} was removed by retention while it arrived; upload it again");
                await ArtifactRepository.InsertAsync(connection, row, jobId, token);
                if (header.Kind == ArtifactUploadKind.File && jobId is { } fileJob && header.Name.Length > 0)
                    await ArtifactRepository.RecordJobFileAsync(connection, fileJob, header.Attempt, header.Name, header.Sha256, header.Size, token);
                var artifact = Ids.Artifact(header.Sha256);
                if (header.Kind != ArtifactUploadKind.CheckpointShard) return new UploadReceipt(artifact, null, false);
                var outcome = await CheckpointRepository.AddShardAsync(connection, jobId!.Value, header.Attempt, header.Step, header.WorldSize,
                    header.Rank, header.Sha256, header.Size, token);
                if (outcome.Conflict is not null) throw OrchestratorException.Precondition(outcome.Conflict);
                return new UploadReceipt(artifact, outcome.CheckpointId, outcome.CompletedNow);
            }, cancellation);
            if (receipt.CheckpointComplete)
                using (LogContext.PushProperty("JobId", jobId))
                    logger.LogInformation("Job {JobId} checkpoint of step {Step} complete ({WorldSize} shards)", jobId, header.Step, header.WorldSize);
            return receipt;
        }
        catch
        {
            // The content is in the store but its record is not.
            await ForgetUnrecordedAsync(header.Sha256);
            throw;
        }
    }

    /// <summary>The header's fields, and for checkpoint shards the job and attempt they belong to; returns the job id if any.</summary>
    async Task<Guid?> CheckHeaderAsync(ArtifactUpload header, CancellationToken cancellation)
    {
        if (header.Kind is null) throw OrchestratorException.Invalid("header.kind", "is required: checkpoint_shard, model or file");
        if (!Shared.Jobs.ModelReference.IsSha256(header.Sha256)) throw OrchestratorException.Invalid("header.sha256", $"'{Shared.Jobs.Echo.Short(header.Sha256)}' is not 64 lower-case hex digits");
        if (header.Size < 0) throw OrchestratorException.Invalid("header.size", $"is {header.Size}; must not be negative");
        if (header.JobId.Length == 0)
            return header.Kind == ArtifactUploadKind.CheckpointShard ? throw OrchestratorException.Invalid("header.job_id", "a checkpoint shard needs its job") : null;
        var jobId = Ids.Parse(header.JobId, "header.job_id");
        if (header.Kind == ArtifactUploadKind.File && header.Name.Length > 0 && !JobFileName.IsValid(header.Name))
            throw OrchestratorException.Invalid("header.name", $"'{Shared.Jobs.Echo.Short(header.Name)}' is not {JobFileName.Rule}");
        if (header.Kind == ArtifactUploadKind.CheckpointShard)
        {
            if (header.WorldSize < 1) throw OrchestratorException.Invalid("header.world_size", $"is {header.WorldSize}; must be positive");
            if (header.Rank < 0 || header.Rank >= header.WorldSize)
                throw OrchestratorException.Invalid("header.rank", $"is {header.Rank}; must be in 0..{header.WorldSize - 1}");
            if (header.Step < 0) throw OrchestratorException.Invalid("header.step", $"is {header.Step}; must not be negative");
        }
        var attemptWorldSize = await database.ReadAsync((connection, token) => connection.QuerySingleOrDefaultAsync<int?>(
            "SELECT a.world_size FROM jobs j LEFT JOIN attempts a ON a.job_id = j.id AND a.attempt = @attempt WHERE j.id = @job",
            r => r.IsDBNull(0) ? -1 : r.GetInt32(0), token, ("job", jobId), ("attempt", header.Attempt)), cancellation)
            ?? throw OrchestratorException.NotFound($"job {jobId} does not exist");
        if (header.Kind == ArtifactUploadKind.CheckpointShard && attemptWorldSize != header.WorldSize)
            throw attemptWorldSize < 0
                ? OrchestratorException.Invalid("header.attempt", $"job {jobId} has no attempt {header.Attempt}")
                : OrchestratorException.Invalid("header.world_size", $"is {header.WorldSize}; attempt {header.Attempt} runs {attemptWorldSize} ranks");
        return jobId;
    }

    /// <summary>A named job file must be content the product writes (<see cref="JobFileContent"/>); refused content is not kept.</summary>
    async Task CheckFileContentAsync(ArtifactUpload header, CancellationToken cancellation)
    {
        string? problem;
        await using (var stored = store.OpenRead(header.Sha256)) problem = JobFileContent.Problem(header.Name, stored);
        if (problem is null) return;
        await ForgetUnrecordedAsync(header.Sha256);
        throw OrchestratorException.Invalid("header.name", $"'{Shared.Jobs.Echo.Short(header.Name)}' is refused: {problem}; {JobFileContent.Rule}");
    }

    /// <summary>Removes stored content that has no record, unless another upload recorded the same content.</summary>
    async Task ForgetUnrecordedAsync(string sha256)
    {
        if (await database.ReadAsync((connection, token) => ArtifactRepository.FindAsync(connection, sha256, token), CancellationToken.None) is null)
            store.Forget(sha256);
    }

    async Task CheckUploaderAsync(Guid jobId, ArtifactUpload header, Guid uploader, CancellationToken cancellation)
    {
        var runner = await database.ReadAsync((connection, token) => connection.QuerySingleOrDefaultAsync<Guid?>(
            "SELECT worker_id FROM attempt_ranks WHERE job_id = @job AND attempt = @attempt AND rank = @rank",
            r => r.GetGuid(0), token, ("job", jobId), ("attempt", header.Attempt), ("rank", header.Rank)), cancellation);
        if (runner != uploader)
            throw new OrchestratorException(OrchestratorErrorKind.PermissionDenied,
                $"worker {uploader} does not run rank {header.Rank} of job {jobId} attempt {header.Attempt}; a worker uploads only its own rank's artifacts");
    }

    static string KindName(ArtifactUploadKind kind) => kind switch
    {
        ArtifactUploadKind.CheckpointShard => "checkpoint_shard",
        ArtifactUploadKind.Model => "model",
        _ => "file",
    };
}
