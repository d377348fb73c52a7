namespace SpectralDiffusion.Worker.Training;

/// <summary>Progress of a run every <see cref="TrainerOptions.LogEvery"/> steps (and at the last step).</summary>
public sealed record StepReport(long Step, long TotalSteps, IReadOnlyDictionary<string, double> Metrics, double StepsPerSecond, TimeSpan Remaining);

/// <summary>Where a trainer sends progress and checkpoints: the console and files standalone, the orchestrator under the agent.</summary>
public interface ITrainingObserver
{
    void OnProgress(StepReport report);

    /// <summary>Called at every checkpoint step and after the last step; <paramref name="state"/> is only valid during the call.</summary>
    void OnCheckpoint(TrainingState state);
}
