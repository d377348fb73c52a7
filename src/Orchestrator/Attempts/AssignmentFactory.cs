using Npgsql;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Attempts;

/// <summary>Builds the start order each rank of an attempt receives: spec, rank, rendezvous, resume checkpoint, resolved model weights.</summary>
public static class AssignmentFactory
{
    public static async Task<StartOrder> StartAsync(NpgsqlConnection connection, Job job, int rank, Guid rendezvousId,
        CheckpointManifest? resumeFrom, CancellationToken cancellation) =>
        new(job.Id, job.Attempt, rank, job.Spec.WorldSize, rendezvousId, job.Spec.Encoded, resumeFrom,
            await ResolveAsync(connection, job.Spec.ModelCheckpoint, cancellation), await ResolveAsync(connection, job.Spec.TeacherCheckpoint, cancellation));

    /// <summary>The start order of a worker's current assignment, replayed when its stream (re)opens; null when it has none.</summary>
    public static async Task<StartOrder?> CurrentAsync(NpgsqlConnection connection, Guid workerId, CancellationToken cancellation)
    {
        if (await WorkerRepository.AssignmentAsync(connection, workerId, cancellation) is not { } assignment) return null;
        if (await AttemptRepository.LiveAsync(connection, assignment.JobId, assignment.Attempt, cancellation) is not { } live) return null;
        var job = await JobRepository.LoadForUpdateAsync(connection, assignment.JobId, cancellation);
        if (job is null || job.Attempt != assignment.Attempt) return null;
        var resume = live.ResumeCheckpointId is { } checkpointId ? await CheckpointRepository.GetAsync(connection, checkpointId, cancellation) : null;
        return await StartAsync(connection, job, assignment.Rank, live.RendezvousId, resume, cancellation);
    }

    /// <summary>"job:&lt;id&gt;" → that job's final model artifact; "artifact:&lt;sha&gt;" as is; a path or nothing → "".</summary>
    static async Task<string> ResolveAsync(NpgsqlConnection connection, string checkpoint, CancellationToken cancellation)
    {
        var reference = ModelReference.Parse(checkpoint);
        return reference.Kind switch
        {
            ModelReferenceKind.Artifact => checkpoint,
            ModelReferenceKind.Job => await connection.QuerySingleOrDefaultAsync(
                "SELECT result_artifact FROM jobs WHERE id = @id", r => r.GetString(0), cancellation, ("id", Guid.Parse(reference.Value))) ?? "",
            _ => "",
        };
    }
}
