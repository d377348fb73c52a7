using System.Globalization;
using System.Text.Json;
using Serilog;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Training;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>
/// A single-process host for the standalone verbs (<c>worker train/distill/evaluate</c>): progress on the console,
/// metrics as CSV, checkpoints, model and evaluation under one output folder. A rerun into the same folder resumes
/// from its newest complete checkpoint.
/// </summary>
public sealed class LocalJobHost : IJobHost
{
    readonly JobSpec spec;
    readonly bool resume;
    readonly TextWriter console;
    readonly string metricsPath;

    public LocalJobHost(JobSpec spec, string outputDirectory, bool resume, ILogger log, TextWriter console, CancellationToken cancellation)
    {
        this.spec = spec;
        this.resume = resume;
        this.console = console;
        WorkDirectory = Path.GetFullPath(outputDirectory);
        Directory.CreateDirectory(WorkDirectory);
        metricsPath = Path.Combine(WorkDirectory, "metrics.csv");
        Log = log;
        Cancellation = cancellation;
    }

    public int Rank => 0;
    public int WorldSize => 1;
    public ICollective? Collective => null;
    public string WorkDirectory { get; }
    public CancellationToken Cancellation { get; }
    public ILogger Log { get; }
    public string? PublishedModel { get; private set; }
    public EvaluationOutcome? Evaluation { get; private set; }

    public string? WeightsPath(ModelRole role) => CheckpointPaths.LocalFile(spec, role,
        (field, checkpoint) => new ArgumentException($"{field}.checkpoint '{checkpoint}' names an orchestrator artifact; standalone runs need a file path"));

    public TrainingState? ResumeState()
    {
        if (!resume) return null;
        var newest = LocalCheckpoints.NewestReadable(Path.Combine(WorkDirectory, "checkpoints"),
            (folder, reason) => console.WriteLine($"skipping the damaged checkpoint {folder}: {reason}"));
        if (newest is not { } found) return null;
        console.WriteLine($"resuming from {found.Folder} (pass --fresh to start over)");
        return found.State;
    }

    public void ReportProgress(string phase, long step, long totalSteps, double stepsPerSecond, IReadOnlyDictionary<string, double> metrics)
    {
        var values = string.Join("  ", metrics.OrderBy(m => m.Key).Select(m => $"{m.Key} {m.Value.ToString("G4", CultureInfo.InvariantCulture)}"));
        var rate = stepsPerSecond > 0 ? $"  {stepsPerSecond:F2} it/s  ETA {RemainingTime.Format(RemainingTime.Estimate(totalSteps - step, stepsPerSecond))}" : "";
        console.WriteLine($"[{phase}] {step}/{totalSteps}  {values}{rate}");
        if (metrics.Count == 0) return;
        var exists = File.Exists(metricsPath);
        using var writer = File.AppendText(metricsPath);
        if (!exists) writer.WriteLine("phase,step,name,value");
        foreach (var (name, value) in metrics)
            writer.WriteLine($"{phase},{step},{name},{value.ToString("R", CultureInfo.InvariantCulture)}");
    }

    public void CheckpointShardWritten(long step, string path) =>
        Log.Information("Checkpoint at step {Step}: {Path}", step, path);

    public void PublishModel(string path)
    {
        PublishedModel = path;
        console.WriteLine($"model (EMA weights): {path}");
    }

    public void PublishFile(string path) => console.WriteLine($"wrote {path}");

    public void PublishRunSettings(ResolvedRunSettings settings) => Log.Information("Run settings: {Settings}", settings.ToString());

    public void PublishEvaluation(EvaluationOutcome outcome)
    {
        Evaluation = outcome;
        var path = Path.Combine(WorkDirectory, EvaluationArtifacts.OutcomeFile);
        File.WriteAllText(path, JsonSerializer.Serialize(outcome, new JsonSerializerOptions { WriteIndented = true }));
        console.WriteLine($"evaluation: {path}");
    }
}
