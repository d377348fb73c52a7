using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary><c>orchestrator runs [--type T] [--preset P] [--limit N]</c>: run history with final metrics and the latest evaluations.</summary>
public static class RunsCommand
{
    public static Command Create()
    {
        var type = EnumOptions.One<JobType>("--type", "runs of this type");
        var preset = new Option<string>("--preset") { Description = "Only runs of this preset", DefaultValueFactory = _ => "" };
        var limit = new Option<int>("--limit") { Description = "At most this many runs", DefaultValueFactory = _ => 50 };
        return CliContext.Verb("runs", "Show run history.", async (parse, cli, cancellation) =>
        {
            var history = cli.RunHistory;
            var runs = await history.ListRunsAsync(new ListRunsRequest { Type = parse.GetValue(type), Preset = parse.GetValue(preset)!, Limit = parse.GetValue(limit) },
                cancellationToken: cancellation);
            var evaluations = await history.ListEvaluationsAsync(new ListEvaluationsRequest { Preset = parse.GetValue(preset)!, Limit = parse.GetValue(limit) },
                cancellationToken: cancellation);
            if (cli.Json)
            {
                // One document for scripts: {"runs": [...], "evaluations": [...]}.
                Console.WriteLine($"{{\"runs\":{CliContext.ToJson(runs)},\"evaluations\":{CliContext.ToJson(evaluations)}}}");
                return 0;
            }
            string Number(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
            var table = new Table().Border(TableBorder.Rounded).Title("runs").AddColumns("job", "name", "type", "preset", "teacher", "state", "ranks", "attempts", "steps", "final metrics", "finished");
            foreach (var run in runs.Runs)
                table.AddRow(Markup.Escape(run.JobId), Markup.Escape(run.Name), JobFormatting.Type(run.Type), Markup.Escape(run.FirstStage.Length > 0 ? $"{run.Preset} on {run.FirstStage}" : run.Preset), Markup.Escape(run.TeacherPreset),
                    JobFormatting.Colored(run.State), run.WorldSize.ToString(), run.Attempts.ToString(), run.Steps.ToString(),
                    Markup.Escape(string.Join(" ", run.FinalMetrics.OrderBy(m => m.Key).Select(m => $"{m.Key}={Number(m.Value)}"))), JobFormatting.Time(run.FinishedAt));
            AnsiConsole.Write(table);
            if (evaluations.Evaluations.Count == 0) return 0;
            var scores = new Table().Border(TableBorder.Rounded).Title("evaluations")
                .AddColumns("job", "preset", "params", "MACs", "samples", "FID", "low-freq error", "high-freq error", "HF power gen/real", "at");
            string Extra(Evaluation e, string key, Func<double, string> format) => e.Extra.TryGetValue(key, out var value) ? format(value) : "-";
            foreach (var e in evaluations.Evaluations)
                scores.AddRow(Markup.Escape(e.JobId), Markup.Escape(e.Preset), Extra(e, EvaluationArtifacts.ParamsMetric, v => $"{v / 1e6:F3}M"), Extra(e, EvaluationArtifacts.MacsMetric, v => $"{v / 1e9:F3}G"),
                    e.NumSamples.ToString(), e.HasFid ? Number(e.Fid) : "-", Number(e.LowFrequencyError), Number(e.HighFrequencyError),
                    Extra(e, EvaluationArtifacts.HighFrequencyPowerRatioMetric, v => v.ToString("0.##", CultureInfo.InvariantCulture)), JobFormatting.Time(e.CreatedAt));
            AnsiConsole.Write(scores);
            return 0;
        }, type, preset, limit);
    }
}
