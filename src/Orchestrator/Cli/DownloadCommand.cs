using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary>
/// <c>orchestrator download JOB [--what model|checkpoint[:STEP]|NAME] [--out PATH]</c>: one artifact of a job to a file,
/// with a progress bar on a terminal, its SHA-256 checked, written under a temporary name and renamed when whole.
/// </summary>
public static class DownloadCommand
{
    public static Command Create()
    {
        var job = new Argument<string>("JOB") { Description = "Job id" };
        var what = new Option<string>("--what")
        {
            Description = "model (default), checkpoint (the newest, consolidated into one file), checkpoint:STEP, or a name that `orchestrator artifacts` lists",
            DefaultValueFactory = _ => "model",
        };
        var output = new Option<string?>("--out") { Description = "File or existing folder to write to (default: the artifact's name in the current folder)" };
        return CliContext.Verb("download", "Download a job's model, a checkpoint or a file, checking its SHA-256.", async (parse, cli, cancellation) =>
        {
            using var call = cli.Artifacts.Download(new DownloadJobArtifactRequest { JobId = parse.GetValue(job)!, What = parse.GetValue(what)! },
                cancellationToken: cancellation);
            SavedArtifact saved;
            try { saved = await ArtifactFile.SaveAsync(call.ResponseStream, parse.GetValue(output), TransferProgress.OnStandardError, cancellation); }
            catch (IOException e) { return CliContext.Fail(e.Message); }
            if (cli.Json)
                Console.WriteLine(JsonSerializer.Serialize(new { name = saved.Name, path = saved.Path, size = saved.Size, sha256 = saved.Sha256 }));
            else
                AnsiConsole.MarkupLineInterpolated($"saved [bold]{saved.Name}[/] to {saved.Path} ({TransferProgress.Size(saved.Size)}, sha256 {saved.Sha256})");
            return 0;
        }, job, what, output);
    }
}
