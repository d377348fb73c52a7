using System.Globalization;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Evaluation;
using SpectralDiffusion.Worker.Training;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>Forwards a trainer's progress to the job host and writes this rank's checkpoint shards.</summary>
public sealed class HostTrainingObserver(IJobHost host, JobSpec spec) : ITrainingObserver
{
    readonly List<StepReport> history = new();

    public void OnProgress(StepReport report)
    {
        history.Add(report);
        host.ReportProgress("train", report.Step, report.TotalSteps, report.StepsPerSecond, report.Metrics);
    }

    /// <summary>Plots every loss term reported in this attempt against the step (log scale) and returns the PNG's path, or null before any report.</summary>
    public string? PlotLosses(string path)
    {
        if (history.Count == 0) return null;
        var series = history.SelectMany(r => r.Metrics.Keys).Distinct().Where(name => name.StartsWith("loss", StringComparison.Ordinal)).Order()
            .Select(name => new PlotSeries(name,
                history.Where(r => r.Metrics.ContainsKey(name)).Select(r => (double)r.Step).ToArray(),
                history.Where(r => r.Metrics.ContainsKey(name)).Select(r => r.Metrics[name]).ToArray()))
            .Where(s => s.Y.Any(v => v > 0)).ToList();
        Plots.LossCurves(path, series);
        return path;
    }

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
