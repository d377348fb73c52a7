using Serilog;
using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Training;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>Which model of a job a weights file belongs to.</summary>
public enum ModelRole { Model, Teacher }

/// <summary>
/// What a rank of a job runs inside: the standalone CLI (<see cref="LocalJobHost"/>: console and files) or the
/// worker agent (the orchestrator over gRPC). The engine reports through it and never knows which.
/// </summary>
public interface IJobHost
{
    int Rank { get; }
    int WorldSize { get; }
    /// <summary>The rank group's collectives; null when <see cref="WorldSize"/> is 1.</summary>
    ICollective? Collective { get; }
    /// <summary>This rank's folder for checkpoint shards, samples and plots.</summary>
    string WorkDirectory { get; }
    CancellationToken Cancellation { get; }
    ILogger Log { get; }

    /// <summary>A local path to the weights a <see cref="ModelRole"/> starts from, or null to start from the preset's initialisation.</summary>
    string? WeightsPath(ModelRole role);

    /// <summary>The newest complete checkpoint to resume from, or null to start fresh.</summary>
    TrainingState? ResumeState();

    void ReportProgress(string phase, long step, long totalSteps, double stepsPerSecond, IReadOnlyDictionary<string, double> metrics);

    /// <summary>This rank's shard of the checkpoint at <paramref name="step"/> has been written to <paramref name="path"/>.</summary>
    void CheckpointShardWritten(long step, string path);

    /// <summary>Rank 0: the final model (EMA weights, no aligners) is at <paramref name="path"/>.</summary>
    void PublishModel(string path);

    /// <summary>Rank 0: a plot, sample grid or table produced by the job.</summary>
    void PublishFile(string path);

    /// <summary>Rank 0, before the first step: what the run resolved (schedule, scale factor, configs, gate initialisation).</summary>
    void PublishRunSettings(ResolvedRunSettings settings);

    /// <summary>Rank 0: the evaluation's numbers.</summary>
    void PublishEvaluation(EvaluationOutcome outcome);
}
