using System.CommandLine;
using Spectre.Console;
using SpectralDiffusion.Orchestrator.Dashboard;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary><c>orchestrator gc [--dry-run]</c>: applies the retention policy now and lists what it removed (or would
/// remove) with the bytes freed.</summary>
public static class GcCommand
{
    public static Command Create()
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Only list what the retention policy drops; remove nothing" };
        return CliContext.Verb("gc", "Remove what the retention policy drops (old checkpoints, unneeded files).", async (parse, cli, cancellation) =>
        {
            var response = await cli.Jobs.CollectGarbageAsync(new CollectGarbageRequest { DryRun = parse.GetValue(dryRun) },
                cancellationToken: cancellation);
            if (cli.Json)
            {
                cli.PrintJson(response);
                return 0;
            }
            var table = new Table().Border(TableBorder.Rounded).AddColumns("job", "what", "name", "bytes");
            foreach (var item in response.Items)
                table.AddRow(Markup.Escape(item.JobId), Markup.Escape(item.What), Markup.Escape(item.Name), Format.Bytes(item.Bytes));
            if (response.Items.Count > 0) AnsiConsole.Write(table);
            AnsiConsole.MarkupLine(response.DryRun
                ? $"dry run: {response.Items.Count} items, {response.FilesRemoved} stored files, {Format.Bytes(response.BytesFreed)} would be freed"
                : $"{response.Items.Count} items removed, {response.FilesRemoved} stored files, {Format.Bytes(response.BytesFreed)} freed");
            return 0;
        }, dryRun);
    }
}
