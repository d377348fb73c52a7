using System.CommandLine;
using Spectre.Console;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary><c>orchestrator show ID [--yaml]</c>: one job in full (state, attempts, progress, workers, result, spec);
/// <c>--yaml</c> prints only its spec, as the YAML that <c>orchestrator submit</c> takes.</summary>
public static class ShowCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("ID") { Description = "Job id" };
        var yaml = new Option<bool>("--yaml") { Description = "Print only the job's spec, as YAML that `orchestrator submit` takes" };
        return CliContext.Verb("show", "Show one job.", async (parse, cli, cancellation) =>
        {
            var job = await cli.Jobs.GetAsync(new GetJobRequest { Id = parse.GetValue(id)! }, cancellationToken: cancellation);
            if (parse.GetValue(yaml))
            {
                Console.Write(SpecYaml.From(job.Spec));
                return 0;
            }
            if (cli.Json)
            {
                cli.PrintJson(job);
                return 0;
            }
            var grid = new Grid().AddColumn().AddColumn();
            void Row(string name, string value) => grid.AddRow(new Markup($"[bold]{name}[/]"), new Markup(value));
            Row("id", Markup.Escape(job.Id));
            Row("name", Markup.Escape(job.Spec.Name));
            Row("type", JobFormatting.Type(job.Spec.Type));
            Row("state", JobFormatting.Colored(job.State));
            Row("attempt", $"{job.Attempt} ({job.Restarts} restarts of {job.Spec.MaxRestarts})");
            Row("progress", Markup.Escape(JobFormatting.Progress(job.Progress)));
            Row("resumed from step", job.ResumeStep.ToString());
            Row("workers", Markup.Escape(string.Join(", ", job.Workers)));
            Row("result", Markup.Escape(job.ResultArtifact));
            Row("failure", Markup.Escape(job.FailureReason));
            Row("created", JobFormatting.Time(job.CreatedAt));
            Row("started", JobFormatting.Time(job.StartedAt));
            Row("finished", JobFormatting.Time(job.FinishedAt));
            var settings = await cli.RunHistory.GetRunSettingsAsync(new GetRunSettingsRequest { JobId = job.Id }, cancellationToken: cancellation);
            if (settings.Attempts.LastOrDefault() is { } run)
                foreach (var (name, value) in RunSettingsRows(run)) Row(name, Markup.Escape(value));
            Row("spec", Markup.Escape(Google.Protobuf.JsonFormatter.Default.Format(job.Spec)));
            AnsiConsole.Write(grid);
            return 0;
        }, id, yaml);
    }

    /// <summary>What the run resolved, as rank 0 of its latest attempt reported it.</summary>
    static IEnumerable<(string Name, string Value)> RunSettingsRows(RunSettings run)
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        yield return ("schedule", string.Format(invariant, "linear β {0:G6} → {1:G6}, T = {2}, {3}-prediction (from {4}; attempt {5})",
            run.BetaStart, run.BetaEnd, run.Timesteps, run.Parameterization, run.ScheduleSource, run.Attempt));
        yield return ("scale factor", run.HasScaleFactor
            ? string.Format(invariant, "{0:G6} (from {1}){2}", run.ScaleFactor, run.ScaleFactorSource, run.FirstStage.Length > 0 ? $", first stage {run.FirstStage}" : "")
            : "none (pixel space)");
        yield return ("config", (run.ModelConfig.Length > 0 ? run.ModelConfig : "none (the preset's)") +
                                (run.TeacherConfig.Length > 0 ? $"; teacher {run.TeacherConfig}" : ""));
        yield return ("gate init", run.GateInit.Length > 0 ? run.GateInit : "no wavelet gates");
    }
}
