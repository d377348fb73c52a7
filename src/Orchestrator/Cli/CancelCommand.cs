using System.CommandLine;
using Spectre.Console;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary><c>orchestrator cancel ID [--reason TEXT]</c>: stops the job's ranks and leaves it CANCELLED.</summary>
public static class CancelCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("ID") { Description = "Job id" };
        var reason = new Option<string>("--reason") { Description = "Recorded with the job", DefaultValueFactory = _ => "cancelled from the CLI" };
        return CliContext.Verb("cancel", "Cancel a job.", async (parse, cli, cancellation) =>
        {
            var job = await cli.Jobs.CancelAsync(
                new CancelJobRequest { Id = parse.GetValue(id)!, Reason = parse.GetValue(reason)! }, cancellationToken: cancellation);
            if (cli.Json) cli.PrintJson(job);
            else AnsiConsole.MarkupLineInterpolated($"{job.Id} is {JobFormatting.State(job.State)}");
            return 0;
        }, id, reason);
    }
}
