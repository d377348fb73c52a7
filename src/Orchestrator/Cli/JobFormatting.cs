using System.Globalization;
using Spectre.Console;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary>How jobs, progress and runs read in a terminal.</summary>
public static class JobFormatting
{
    public static string State(JobState state) => state.ToString().ToLowerInvariant();

    public static string Colored(JobState state) => state switch
    {
        JobState.Succeeded => $"[green]{State(state)}[/]",
        JobState.Failed => $"[red]{State(state)}[/]",
        JobState.Cancelled => $"[grey]{State(state)}[/]",
        JobState.Running => $"[blue]{State(state)}[/]",
        _ => $"[yellow]{State(state)}[/]",
    };

    public static string Type(JobType type) => type.ToString().ToLowerInvariant();

    public static string Time(Google.Protobuf.WellKnownTypes.Timestamp? at) =>
        at is null ? "" : at.ToDateTime().ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>"step 120/400 (30%) loss=0.0412 12.3 it/s ETA 00:22"</summary>
    public static string Progress(SpectralDiffusion.Shared.Contracts.V1.Progress? progress)
    {
        if (progress is null || progress.TotalSteps == 0 && progress.Step == 0) return "";
        var parts = new List<string> { progress.TotalSteps > 0 ? $"step {progress.Step}/{progress.TotalSteps} ({100.0 * progress.Step / progress.TotalSteps:0}%)" : $"step {progress.Step}" };
        if (progress.Phase.Length > 0) parts.Insert(0, progress.Phase);
        parts.AddRange(progress.Metrics.OrderBy(m => m.Key).Take(4).Select(m => $"{m.Key}={m.Value.ToString("0.####", CultureInfo.InvariantCulture)}"));
        if (progress.StepsPerSecond > 0)
        {
            parts.Add($"{progress.StepsPerSecond:0.##} it/s");
            if (progress.TotalSteps > progress.Step)
                parts.Add($"ETA {RemainingTime.Format(RemainingTime.Estimate(progress.TotalSteps - progress.Step, progress.StepsPerSecond))}");
        }
        return string.Join(" ", parts);
    }

    public static Table JobTable(IEnumerable<Job> jobs)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("id", "name", "type", "preset", "state", "ranks", "attempt", "progress", "created");
        foreach (var job in jobs)
            table.AddRow(Markup.Escape(job.Id), Markup.Escape(job.Spec.Name), Type(job.Spec.Type), Markup.Escape(job.Spec.Model?.Preset ?? ""),
                Colored(job.State), job.Spec.WorldSize.ToString(), job.Attempt.ToString(), Markup.Escape(Progress(job.Progress)), Time(job.CreatedAt));
        return table;
    }
}
