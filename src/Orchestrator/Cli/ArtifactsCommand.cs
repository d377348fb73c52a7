using System.CommandLine;
using Spectre.Console;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary><c>orchestrator artifacts JOB [--json]</c>: what a job produced (model, checkpoints and their shards, files), with
/// the names <c>orchestrator download --what</c> takes.</summary>
public static class ArtifactsCommand
{
    public static Command Create()
    {
        var job = new Argument<string>("JOB") { Description = "Job id" };
        return CliContext.Verb("artifacts", "List a job's artifacts: model, checkpoints (whole or by shard), evaluation files and samples.",
            async (parse, cli, cancellation) =>
            {
                var listed = await cli.Artifacts.ListAsync(new ListJobArtifactsRequest { JobId = parse.GetValue(job)! }, cancellationToken: cancellation);
                if (cli.Json)
                {
                    cli.PrintJson(listed);
                    return 0;
                }
                var table = new Table().AddColumns("NAME", "KIND", "STEP", "SIZE", "SHA-256");
                foreach (var artifact in listed.Artifacts)
                    table.AddRow(Markup.Escape(artifact.Name), artifact.Kind, artifact.Kind.StartsWith("checkpoint", StringComparison.Ordinal) ? artifact.Step.ToString() : "",
                        TransferProgress.Size(artifact.Size), artifact.Sha256);
                AnsiConsole.Write(table);
                return 0;
            }, job);
    }
}
