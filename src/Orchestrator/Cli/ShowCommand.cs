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
            Row("spec", Markup.Escape(Google.Protobuf.JsonFormatter.Default.Format(job.Spec)));
            AnsiConsole.Write(grid);
            return 0;
        }, id, yaml);
    }
}
