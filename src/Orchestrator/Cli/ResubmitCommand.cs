using System.CommandLine;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary><c>orchestrator resubmit ID [--set k=v]...</c>: submits a job's spec again, as a new job, with overrides
/// (a run again with another seed, more steps, or the fixed path of a failed one).</summary>
public static class ResubmitCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("ID") { Description = "The job whose spec to submit again" };
        var overrides = new Option<string[]>("--set") { Description = "override a spec key, e.g. --set schedule.seed=2 (repeatable)" };
        return CliContext.Verb("resubmit", "Submit a job's spec again as a new job, with overrides.", async (parse, cli, cancellation) =>
        {
            var source = parse.GetValue(id)!;
            var job = await cli.Jobs.GetAsync(new GetJobRequest { Id = source }, cancellationToken: cancellation);
            var spec = JobSpecOverrides.ApplyTo(job.Spec, parse.GetValue(overrides) ?? [], $"job {source}");
            return await SubmitCommand.SubmitAsync(cli, spec, $"job {source}'s spec with the overrides", cancellation);
        }, id, overrides);
    }
}
