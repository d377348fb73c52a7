using Grpc.Core;
using Serilog;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Jobs;
using SpectralDiffusion.Worker.Training;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>
/// The job host of one rank under the agent: weights and resume shards come from the orchestrator's artifact store,
/// progress, checkpoint shards, the final model, files and evaluations go back to it.
/// </summary>
public sealed class GrpcJobHost(
    AssignmentStart assignment,
    string workerId,
    OrchestratorConnection connection,
    ArtifactTransfer artifacts,
    ICollective? collective,
    string workDirectory,
    ILogger log,
    CancellationToken cancellation) : IJobHost
{
    public int Rank => assignment.Rank;
    public int WorldSize => assignment.WorldSize;
    public ICollective? Collective => collective;
    public string WorkDirectory => workDirectory;
    public CancellationToken Cancellation => cancellation;
    public ILogger Log => log;
    /// <summary>"artifact:&lt;sha256&gt;" of the published model (rank 0 of train and distill jobs).</summary>
    public string? ModelArtifact { get; private set; }

    public string? WeightsPath(ModelRole role)
    {
        var (resolved, spec) = role == ModelRole.Teacher ? (assignment.TeacherArtifact, assignment.Spec.Teacher) : (assignment.ModelArtifact, assignment.Spec.Model);
        if (resolved.Length > 0) return Wait(artifacts.DownloadAsync(resolved, cancellation));
        var checkpoint = spec?.Checkpoint ?? "";
        if (checkpoint.Length == 0) return null;
        var reference = ModelReference.Parse(checkpoint);
        if (reference.Kind != ModelReferenceKind.Path)
            throw new InvalidDataException($"{role.ToString().ToLowerInvariant()}.checkpoint '{checkpoint}' was not resolved by the orchestrator");
        if (!File.Exists(reference.Value))
            throw new FileNotFoundException($"{role.ToString().ToLowerInvariant()}.checkpoint: {reference.Value} does not exist on worker {workerId}", reference.Value);
        return reference.Value;
    }

    public TrainingState? ResumeState()
    {
        var checkpoint = assignment.ResumeFrom;
        if (checkpoint is null || checkpoint.ShardArtifacts.Count == 0) return null;
        log.Information("Resuming from checkpoint {CheckpointId} at step {Step} ({Shards} shards of world size {World})",
            checkpoint.CheckpointId, checkpoint.Step, checkpoint.ShardArtifacts.Count, checkpoint.WorldSize);
        var paths = checkpoint.ShardArtifacts.Select(a => Wait(artifacts.DownloadAsync(a, cancellation))).ToList();
        return TrainingState.ReadShards(paths);
    }

    public void ReportProgress(string phase, long step, long totalSteps, double stepsPerSecond, IReadOnlyDictionary<string, double> metrics)
    {
        var report = new ProgressReport
        {
            WorkerId = workerId, JobId = assignment.JobId, Attempt = assignment.Attempt, Rank = assignment.Rank,
            Step = step, TotalSteps = totalSteps, Phase = phase, StepsPerSecond = stepsPerSecond,
        };
        // Every rank reports progress (it is also each rank's liveness for the attempt); rank 0 alone records the metric series.
        if (assignment.Rank == 0)
            report.Metrics.AddRange(metrics.Select(m => new MetricPoint { Step = step, Name = m.Key, Value = m.Value }));
        connection.Workers.ReportProgress(report, cancellationToken: cancellation);
        log.Information("Job {JobId} {Phase} step {Step}/{Total} {Metrics}", assignment.JobId, phase, step, totalSteps, metrics);
    }

    public void CheckpointShardWritten(long step, string path)
    {
        var receipt = Wait(artifacts.UploadAsync(path, Header(ArtifactKind.CheckpointShard, step), cancellation));
        log.Information("Uploaded checkpoint shard of step {Step} as {Artifact} (checkpoint complete: {Complete})", step, receipt.Artifact, receipt.CheckpointComplete);
    }

    public void PublishModel(string path)
    {
        ModelArtifact = Wait(artifacts.UploadAsync(path, Header(ArtifactKind.Model, 0), cancellation)).Artifact;
        log.Information("Published the final model as {Artifact}", ModelArtifact);
    }

    public void PublishFile(string path) =>
        Wait(artifacts.UploadAsync(path, Header(ArtifactKind.File, 0), cancellation));

    public void PublishEvaluation(EvaluationOutcome outcome)
    {
        var report = new EvaluationReport
        {
            WorkerId = workerId, JobId = assignment.JobId, Attempt = assignment.Attempt, Preset = outcome.Preset,
            NumSamples = outcome.NumSamples, LowFrequencyError = outcome.LowFrequencyError, HighFrequencyError = outcome.HighFrequencyError,
        };
        if (outcome.Fid is double fid) report.Fid = fid;
        foreach (var (name, value) in outcome.Extra) if (double.IsFinite(value)) report.Extra[name] = value;
        var grid = outcome.Files.FirstOrDefault(f => Path.GetFileName(f) == "samples.png");
        if (grid is not null) report.SamplesArtifact = "artifact:" + ArtifactTransfer.Sha256Hex(grid);
        connection.Workers.ReportEvaluation(report, cancellationToken: cancellation);
    }

    ArtifactHeader Header(ArtifactKind kind, long step) => new()
    {
        Kind = kind, JobId = assignment.JobId, Attempt = assignment.Attempt, Rank = assignment.Rank,
        WorldSize = assignment.WorldSize, Step = step,
    };

    static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();
}
