using System.CommandLine;
using Spectre.Console;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary><c>orchestrator list [--state S]... [--type T] [--label k=v]... [--limit N]</c>: jobs, newest first.</summary>
public static class ListCommand
{
    public static Command Create()
    {
        var states = EnumOptions.Many<JobState>("--state", "jobs in these states");
        var type = EnumOptions.One<JobType>("--type", "jobs of this type");
        var labels = new Option<string[]>("--label") { Description = "Only jobs with this label (key=value); repeatable" };
        var limit = new Option<int>("--limit") { Description = "At most this many jobs", DefaultValueFactory = _ => 50 };
        return CliContext.Verb("list", "List jobs.", async (parse, cli, cancellation) =>
        {
            var request = new ListJobsRequest { Type = parse.GetValue(type), PageSize = Math.Clamp(parse.GetValue(limit), 1, 500) };
            request.States.AddRange(parse.GetValue(states) ?? []);
            foreach (var label in parse.GetValue(labels) ?? [])
            {
                var split = label.Split('=', 2);
                if (split.Length != 2) return CliContext.Fail($"--label '{label}' is not key=value", 2);
                request.Labels[split[0]] = split[1];
            }
            var page = await cli.Jobs.ListAsync(request, cancellationToken: cancellation);
            if (cli.Json) cli.PrintJson(page);
            else AnsiConsole.Write(JobFormatting.JobTable(page.Jobs));
            return 0;
        }, states, type, labels, limit);
    }
}
