using Grpc.Core;
using Polly;
using Serilog;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Jobs;
using SpectralDiffusion.Worker.Training;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>
/// The job host of one rank under the agent: weights and resume shards come from the orchestrator's artifact store,
/// progress, checkpoint shards, the final model, files and evaluations go back to it. Every call rides out an
/// orchestrator outage (<see cref="OrchestratorOutage"/>): training waits for the orchestrator instead of failing.
/// <paramref name="cancellation"/> stops the job after its step; <paramref name="calls"/> ends the calls to the
/// orchestrator (the registration's session ends), so a stopping rank still reports the step it finished.
/// </summary>
public sealed class GrpcJobHost(
    AssignmentStart assignment,
    string workerId,
    OrchestratorConnection connection,
    ArtifactTransfer artifacts,
    ICollective? collective,
    string workDirectory,
    ResiliencePipeline outage,
    ILogger log,
    CancellationToken cancellation,
    CancellationToken calls) : IJobHost
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
        var resolved = role == ModelRole.Teacher ? assignment.TeacherArtifact : assignment.ModelArtifact;
        if (resolved.Length > 0) return Wait(ct => artifacts.DownloadAsync(resolved, ct));
        return CheckpointPaths.LocalFile(assignment.Spec, role,
            (field, checkpoint) => new InvalidDataException($"{field}.checkpoint '{checkpoint}' was not resolved by the orchestrator"), $" on worker {workerId}");
    }

    public TrainingState? ResumeState()
    {
        var checkpoint = assignment.ResumeFrom;
        if (checkpoint is null || checkpoint.ShardArtifacts.Count == 0) return null;
        log.Information("Resuming from checkpoint {CheckpointId} at step {Step} ({Shards} shards of world size {World})",
            checkpoint.CheckpointId, checkpoint.Step, checkpoint.ShardArtifacts.Count, checkpoint.WorldSize);
        var paths = checkpoint.ShardArtifacts.Select(a => Wait(ct => artifacts.DownloadAsync(a, ct))).ToList();
        return TrainingState.ReadShards(paths);
    }

    /// <summary>The metric under which rank 0 records the steps a second of each progress report that carries metrics.</summary>
    public const string StepsPerSecondMetric = "it_per_s";

    public void ReportProgress(string phase, long step, long totalSteps, double stepsPerSecond, IReadOnlyDictionary<string, double> metrics)
    {
        var report = new ProgressReport
        {
            WorkerId = workerId, JobId = assignment.JobId, Attempt = assignment.Attempt, Rank = assignment.Rank,
            Step = step, TotalSteps = totalSteps, Phase = phase, StepsPerSecond = stepsPerSecond,
        };
        // Every rank reports progress (it is also each rank's liveness for the attempt); rank 0 alone records the metric series.
        if (assignment.Rank == 0)
        {
            report.Metrics.AddRange(metrics.Select(m => new MetricPoint { Step = step, Name = m.Key, Value = m.Value }));
            // The training rate joins the series it was measured with, so run history can chart it beside the losses.
            if (metrics.Count > 0 && stepsPerSecond > 0)
                report.Metrics.Add(new MetricPoint { Step = step, Name = StepsPerSecondMetric, Value = stepsPerSecond });
        }
        outage.Execute(ct => connection.Workers.ReportProgress(report, cancellationToken: ct), calls);
        log.Information("Job {JobId} {Phase} step {Step}/{Total} {Metrics}", assignment.JobId, phase, step, totalSteps, metrics);
    }

    public void CheckpointShardWritten(long step, string path)
    {
        var receipt = Wait(ct => artifacts.UploadAsync(path, Header(ArtifactKind.CheckpointShard, step), ct));
        log.Information("Uploaded checkpoint shard of step {Step} as {Artifact} (checkpoint complete: {Complete})", step, receipt.Artifact, receipt.CheckpointComplete);
    }

    public void PublishModel(string path)
    {
        ModelArtifact = Wait(ct => artifacts.UploadAsync(path, Header(ArtifactKind.Model, 0), ct)).Artifact;
        log.Information("Published the final model as {Artifact}", ModelArtifact);
    }

    public void PublishFile(string path) =>
        Wait(ct => artifacts.UploadAsync(path, Header(ArtifactKind.File, 0), ct));

    public void PublishRunSettings(ResolvedRunSettings settings)
    {
        var reported = new RunSettings
        {
            BetaStart = settings.Schedule.LinearStart, BetaEnd = settings.Schedule.LinearEnd, Timesteps = settings.Schedule.Timesteps,
            Parameterization = ResolvedRunSettings.Parameterization, ScheduleSource = settings.ScheduleSource,
            ScaleFactorSource = settings.ScaleFactorSource, FirstStage = settings.FirstStage, ModelConfig = settings.ModelConfig,
            TeacherConfig = settings.TeacherConfig, GateInit = settings.GateInit,
        };
        if (settings.ScaleFactor is { } scale) reported.ScaleFactor = scale;
        var report = new RunSettingsReport
        {
            WorkerId = workerId, JobId = assignment.JobId, Attempt = assignment.Attempt, Rank = assignment.Rank, Settings = reported,
        };
        log.Information("Run settings: {Settings}", settings.ToString());
        try
        {
            outage.Execute(ct => connection.Workers.ReportRunSettings(report, cancellationToken: ct), calls);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            // An orchestrator older than this worker: the run goes on; only its job page lacks the settings.
            log.Warning("The orchestrator does not record run settings (an older version): {Detail}", e.Status.Detail);
        }
    }

    public void PublishEvaluation(EvaluationOutcome outcome)
    {
        var report = new EvaluationReport
        {
            WorkerId = workerId, JobId = assignment.JobId, Attempt = assignment.Attempt, Preset = outcome.Preset,
            NumSamples = outcome.NumSamples, LowFrequencyError = outcome.LowFrequencyError, HighFrequencyError = outcome.HighFrequencyError,
        };
        if (outcome.Fid is double fid) report.Fid = fid;
        foreach (var (name, value) in outcome.Extra) if (double.IsFinite(value)) report.Extra[name] = value;
        var grid = outcome.Files.FirstOrDefault(f => Path.GetFileName(f) == EvaluationArtifacts.SampleGrid);
        if (grid is not null) report.SamplesArtifact = "artifact:" + ArtifactTransfer.Sha256Hex(grid);
        outage.Execute(ct => connection.Workers.ReportEvaluation(report, cancellationToken: ct), calls);
    }

    ArtifactHeader Header(ArtifactKind kind, long step) => new()
    {
        Kind = kind, JobId = assignment.JobId, Attempt = assignment.Attempt, Rank = assignment.Rank,
        WorldSize = assignment.WorldSize, Step = step,
    };

    /// <summary>Runs an asynchronous call to the orchestrator to its end on this (training) thread, riding out an outage.</summary>
    T Wait<T>(Func<CancellationToken, Task<T>> call) =>
        outage.ExecuteAsync(async ct => await call(ct), calls).AsTask().GetAwaiter().GetResult();
}
