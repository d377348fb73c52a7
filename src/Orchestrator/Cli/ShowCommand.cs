using System.CommandLine;
using Spectre.Console;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary><c>orchestrator show ID</c>: one job in full (state, attempts, progress, workers, result, spec).</summary>
public static class ShowCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("ID") { Description = "Job id" };
        return CliContext.Verb("show", "Show one job.", async (parse, cli, cancellation) =>
        {
            var job = await cli.Jobs.GetAsync(new GetJobRequest { Id = parse.GetValue(id)! }, cancellationToken: cancellation);
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
            Row("spec", Markup.Escape(Google.Protobuf.JsonFormatter.Default.Format(job.Spec)));
            AnsiConsole.Write(grid);
            return 0;
        }, id);
    }
}
