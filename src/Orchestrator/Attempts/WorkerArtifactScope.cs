using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;

namespace SpectralDiffusion.Orchestrator.Attempts;

/// <summary>
/// What a worker may download: the artifacts its current start order names (the model and teacher weights it was given,
/// the shards of the checkpoint it resumes from), and nothing else. A worker without an assignment may download nothing;
/// users read a job's artifacts with a read key instead.
/// </summary>
public sealed class WorkerArtifactScope(Database database)
{
    /// <summary>Throws PERMISSION_DENIED unless <paramref name="artifact"/> ("artifact:&lt;sha256&gt;") is named by the worker's current attempt.</summary>
    public async Task RequireNamedAsync(Guid workerId, string artifact, CancellationToken cancellation)
    {
        var start = await database.TransactAsync((connection, token) => AssignmentFactory.CurrentAsync(connection, workerId, token), cancellation);
        var named = start is null ? [] : new[] { start.ModelArtifact, start.TeacherArtifact }
            .Concat(start.ResumeFrom?.ShardArtifacts ?? Enumerable.Empty<string>());
        if (named.Contains(artifact)) return;
        throw new OrchestratorException(OrchestratorErrorKind.PermissionDenied, start is null
            ? $"worker {workerId} has no current attempt, so no artifact to download; users download with a read API key (JobArtifacts.Download)"
            : $"{artifact} is not an input of job {start.JobId} attempt {start.Attempt}, which worker {workerId} runs; a worker downloads only its attempt's model, teacher and resume checkpoint");
    }
}
