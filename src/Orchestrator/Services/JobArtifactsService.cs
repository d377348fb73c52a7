using Google.Protobuf;
using Grpc.Core;
using SpectralDiffusion.Orchestrator.Artifacts;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Shared.Contracts.V1;
using Contracts = SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Services;

/// <summary>spectral.v1.JobArtifacts: a job's artifacts for its users, delegated to <see cref="JobArtifactCatalog"/>.</summary>
internal sealed class JobArtifactsService(JobArtifactCatalog artifacts) : Contracts.JobArtifacts.JobArtifactsBase
{
    public override async Task<ListJobArtifactsResponse> List(ListJobArtifactsRequest request, ServerCallContext context) => new()
    {
        Artifacts = { (await artifacts.ListAsync(Ids.Parse(request.JobId, "job_id"), context.CancellationToken)).Select(ToProto) },
    };

    /// <summary>The header (size and SHA-256) first, then the content chunk by chunk: nothing larger than a chunk is held.
    /// Each chunk wraps the reader's buffer without a copy: WriteAsync has copied the message into the response when it
    /// returns, so the buffer is free for the next read.</summary>
    public override async Task Download(DownloadJobArtifactRequest request, IServerStreamWriter<JobArtifactChunk> responseStream, ServerCallContext context)
    {
        var jobId = Ids.Parse(request.JobId, "job_id");
        if (request.What.Length == 0) throw OrchestratorException.Invalid("what", "is required: model, checkpoint, checkpoint:STEP or a name that List gives");
        var download = await artifacts.OpenAsync(jobId, request.What, context.CancellationToken);
        await responseStream.WriteAsync(new JobArtifactChunk { Header = ToProto(download.Entry) }, context.CancellationToken);
        await foreach (var chunk in download.Content.ChunksAsync(ArtifactStore.ChunkBytes, context.CancellationToken))
            await responseStream.WriteAsync(new JobArtifactChunk { Data = UnsafeByteOperations.UnsafeWrap(chunk) }, context.CancellationToken);
    }

    static JobArtifact ToProto(JobArtifactEntry entry) => new()
    {
        Name = entry.Name, Kind = entry.Kind, Step = entry.Step, Size = entry.Size, Sha256 = entry.Sha256, Rank = entry.Rank, WorldSize = entry.WorldSize,
    };
}
