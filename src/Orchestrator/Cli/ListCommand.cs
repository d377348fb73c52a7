using System.CommandLine;
using Spectre.Console;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary><c>orchestrator list [--state S]... [--type T] [--label k=v]... [--limit N]</c>: jobs, newest first, over as many pages as the limit needs.</summary>
public static class ListCommand
{
    public static Command Create()
    {
        var states = EnumOptions.Many<JobState>("--state", "jobs in these states");
        var type = EnumOptions.One<JobType>("--type", "jobs of this type");
        var labels = new Option<string[]>("--label") { Description = "Only jobs with this label (key=value); repeatable" };
        var limit = new Option<int>("--limit") { Description = "At most this many jobs (0 = all; pages of up to 500 are fetched as needed)", DefaultValueFactory = _ => 50 };
        return CliContext.Verb("list", "List jobs.", async (parse, cli, cancellation) =>
        {
            var wanted = parse.GetValue(limit);
            if (wanted < 0) return CliContext.Fail($"--limit is {wanted}; give 0 (all) or a positive number", 2);
            var request = new ListJobsRequest { Type = parse.GetValue(type) };
            request.States.AddRange(parse.GetValue(states) ?? []);
            foreach (var label in parse.GetValue(labels) ?? [])
            {
                var split = label.Split('=', 2);
                if (split.Length != 2) return CliContext.Fail($"--label '{label}' is not key=value", 2);
                request.Labels[split[0]] = split[1];
            }
            var jobs = await ListAsync(cli, request, wanted == 0 ? int.MaxValue : wanted, cancellation);
            if (cli.Json) cli.PrintJson(jobs);
            else AnsiConsole.Write(JobFormatting.JobTable(jobs.Jobs));
            return 0;
        }, states, type, labels, limit);
    }

    /// <summary>Follows next_page_token until <paramref name="limit"/> jobs or the last page; the result's token says
    /// where a later call would go on (empty when every job was listed).</summary>
    static async Task<ListJobsResponse> ListAsync(CliContext cli, ListJobsRequest request, int limit, CancellationToken cancellation)
    {
        const int largestPage = 500;
        var all = new ListJobsResponse();
        do
        {
            request.PageSize = Math.Min(largestPage, limit - all.Jobs.Count);
            var page = await cli.Jobs.ListAsync(request, cancellationToken: cancellation);
            all.Jobs.AddRange(page.Jobs);
            all.NextPageToken = page.NextPageToken;
            request.PageToken = page.NextPageToken;
        } while (all.NextPageToken.Length > 0 && all.Jobs.Count < limit);
        return all;
    }
}
