using System.CommandLine;
using Spectre.Console;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary><c>orchestrator workers [--all]</c>: registered workers, their device, state, job and lease.</summary>
public static class WorkersCommand
{
    public static Command Create()
    {
        var all = new Option<bool>("--all") { Description = "Include lost and deregistered workers" };
        return CliContext.Verb("workers", "List workers.", async (parse, cli, cancellation) =>
        {
            var response = await cli.Workers.ListAsync(new ListWorkersRequest { IncludeGone = parse.GetValue(all) },
                cancellationToken: cancellation);
            if (cli.Json)
            {
                cli.PrintJson(response);
                return 0;
            }
            var table = new Table().Border(TableBorder.Rounded).AddColumns("id", "name", "node", "device", "state", "job", "rank", "lease until");
            foreach (var w in response.Workers)
                table.AddRow(Markup.Escape(w.Id), Markup.Escape(w.Name), Markup.Escape(w.Node), $"{w.Device.ToString().ToLowerInvariant()}:{w.DeviceIndex}",
                    w.State, Markup.Escape(w.JobId), w.JobId.Length > 0 ? w.Rank.ToString() : "", JobFormatting.Time(w.LeaseExpiresAt));
            AnsiConsole.Write(table);
            return 0;
        }, all);
    }
}
