using System.Globalization;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Training;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>Forwards a trainer's progress to the job host and writes this rank's checkpoint shards.</summary>
public sealed class HostTrainingObserver(IJobHost host, JobSpec spec) : ITrainingObserver
{
    public void OnProgress(StepReport report) =>
        host.ReportProgress("train", report.Step, report.TotalSteps, report.StepsPerSecond, report.Metrics);

    public void OnCheckpoint(TrainingState state)
    {
        var folder = Path.Combine(host.WorkDirectory, "checkpoints", $"step-{state.Step:D8}");
        var path = Path.Combine(folder, $"shard-{host.Rank}-of-{host.WorldSize}.safetensors");
        var described = new TrainingState
        {
            Step = state.Step, Seed = state.Seed, EmaUpdates = state.EmaUpdates, Tensors = state.Tensors,
            Info = new Dictionary<string, string>
            {
                ["job_type"] = spec.Type.ToString(), ["preset"] = spec.Model.Preset,
                ["total_steps"] = spec.Schedule.Steps.ToString(CultureInfo.InvariantCulture),
            },
        };
        described.WriteShard(path, host.Rank, host.WorldSize);
        host.CheckpointShardWritten(state.Step, path);
    }
}
