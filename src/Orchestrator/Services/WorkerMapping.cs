using Google.Protobuf.WellKnownTypes;
using SpectralDiffusion.Orchestrator.Artifacts;
using SpectralDiffusion.Orchestrator.Domain;
using Contracts = SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Services;

/// <summary>What workers send and receive, between the wire and the domain: orders, checkpoints, attempt results, worker listings.</summary>
public static class WorkerMapping
{
    public static Contracts.Assignment ToProto(WorkerOrder order) => order switch
    {
        StartOrder start => new Contracts.Assignment
        {
            Start = new Contracts.AssignmentStart
            {
                JobId = start.JobId.ToString(), Attempt = start.Attempt, Rank = start.Rank, WorldSize = start.WorldSize,
                RendezvousId = start.RendezvousId.ToString(), Spec = JobMapping.Spec(start.EncodedSpec),
                ResumeFrom = start.ResumeFrom is { } resume ? ToReference(resume) : null,
                ModelArtifact = start.ModelArtifact, TeacherArtifact = start.TeacherArtifact,
            },
        },
        AbortOrder abort => new Contracts.Assignment
        {
            Abort = new Contracts.AssignmentAbort { JobId = abort.JobId.ToString(), Attempt = abort.Attempt, Reason = abort.Reason, Cancelled = abort.Cancelled },
        },
        _ => throw new ArgumentOutOfRangeException(nameof(order), order, "not an order the assignment stream carries"),
    };

    public static Contracts.CheckpointRef ToReference(CheckpointManifest checkpoint) => new()
    {
        CheckpointId = checkpoint.Id.ToString(), Step = checkpoint.Step, WorldSize = checkpoint.WorldSize, ShardArtifacts = { checkpoint.ShardArtifacts },
    };

    public static Contracts.Checkpoint ToProto(CheckpointManifest checkpoint) => new()
    {
        CheckpointId = checkpoint.Id.ToString(), JobId = checkpoint.JobId.ToString(), Attempt = checkpoint.Attempt, Step = checkpoint.Step,
        WorldSize = checkpoint.WorldSize, Complete = checkpoint.Complete, CreatedAt = Timestamp.FromDateTime(checkpoint.CreatedAt),
        ShardArtifacts = { checkpoint.ShardArtifacts },
    };

    public static AttemptOutcome ToDomain(Contracts.AttemptResult result) =>
        new(Ids.Parse(result.WorkerId, "worker_id"), Ids.Parse(result.JobId, "job_id"), result.Attempt, result.Rank, result.Succeeded, result.Error,
            result.Failure == Contracts.FailureKind.Permanent, result.FinalArtifact);

    public static ArtifactUpload ToDomain(Contracts.ArtifactHeader header) =>
        new(header.Kind switch
            {
                Contracts.ArtifactKind.CheckpointShard => ArtifactUploadKind.CheckpointShard,
                Contracts.ArtifactKind.Model => ArtifactUploadKind.Model,
                Contracts.ArtifactKind.File => ArtifactUploadKind.File,
                _ => null,
            },
            header.JobId, header.Attempt, header.Rank, header.WorldSize, header.Step, header.Sha256, header.Size, header.Name);

    public static Contracts.WorkerInfo ToProto(WorkerInfo worker) => new()
    {
        Id = worker.Id.ToString(), Name = worker.Name, Node = worker.Node, Device = JobMapping.ToProto(worker.Device), DeviceIndex = worker.DeviceIndex,
        State = worker.State, JobId = worker.JobId?.ToString() ?? "", Rank = worker.Rank, LeaseExpiresAt = Timestamp.FromDateTime(worker.LeaseExpiresAt),
        Labels = { worker.Labels.ToDictionary() },
    };
}
