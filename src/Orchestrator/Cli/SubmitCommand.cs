using System.CommandLine;
using Spectre.Console;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary><c>orchestrator submit FILE.yaml</c>: reads and validates a YAML job spec locally, submits it, prints the job id.</summary>
public static class SubmitCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "YAML job spec (snake_case keys as in proto/spectral/v1/spec.proto)" };
        var overrides = new Option<string[]>("--set") { Description = "override a spec key, e.g. --set teacher.checkpoint=job:ID (repeatable)" };
        return CliContext.Verb("submit", "Submit a job from a YAML spec.", async (parse, cli, cancellation) =>
        {
            var path = parse.GetValue(file)!.FullName;
            return await SubmitAsync(cli, JobSpecOverrides.Load(path, parse.GetValue(overrides) ?? []), path, cancellation);
        }, file, overrides);
    }

    /// <summary>Validates <paramref name="spec"/> locally (naming <paramref name="source"/> in the error), submits it and
    /// prints the new job; shared by <c>submit</c> and <c>resubmit</c>.</summary>
    public static async Task<int> SubmitAsync(CliContext cli, JobSpec spec, string source, CancellationToken cancellation)
    {
        var violations = new JobSpecValidator(JobSpecValidator.DefaultMaxWorldSize).Validate(spec);
        if (violations.Count > 0)
            return CliContext.Fail($"{source} is not a valid job spec:\n" + string.Join("\n", violations.Select(v => $"  {v.Field}: {v.Description}")), 2);
        var job = await cli.Jobs.SubmitAsync(new SubmitJobRequest { Spec = spec }, cancellationToken: cancellation);
        if (cli.Json) cli.PrintJson(job);
        else AnsiConsole.MarkupLineInterpolated($"submitted [bold]{job.Id}[/] ({JobFormatting.Type(spec.Type)} {spec.Model.Preset}, {spec.WorldSize} ranks); follow it with `orchestrator watch {job.Id}`");
        return 0;
    }
}
