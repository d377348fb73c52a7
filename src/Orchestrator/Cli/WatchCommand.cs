using System.CommandLine;
using Grpc.Core;
using Spectre.Console;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary><c>orchestrator watch ID</c>: one line per state change and progress report until the job ends (Ctrl+C stops watching, not the job).</summary>
public static class WatchCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("ID") { Description = "Job id" };
        return CliContext.Verb("watch", "Follow a job's progress until it ends.", async (parse, cli, cancellation) =>
        {
            using var call = cli.Jobs.Watch(new WatchJobRequest { Id = parse.GetValue(id)! }, cancellationToken: cancellation);
            Job? last = null;
            await foreach (var jobEvent in call.ResponseStream.ReadAllAsync(cancellation))
            {
                last = jobEvent.Job;
                if (cli.Json) cli.PrintJson(jobEvent);
                else AnsiConsole.MarkupLine($"{JobFormatting.Time(jobEvent.At)} {JobFormatting.Colored(last.State)} " +
                                            $"{Markup.Escape(JobFormatting.Progress(last.Progress))} [grey]{Markup.Escape(jobEvent.Message)}[/]");
            }
            return last?.State switch
            {
                JobState.Succeeded => 0,
                JobState.Failed => CliContext.Fail($"job failed: {last.FailureReason}"),
                JobState.Cancelled => 4,
                _ => CliContext.Fail("the orchestrator closed the stream before the job ended (it may be restarting); watch again"),
            };
        }, id);
    }
}
