using System.CommandLine;
using Grpc.Core;
using Spectre.Console;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary>
/// <c>orchestrator watch ID</c>: one line per state change and progress report until the job ends (Ctrl+C stops
/// watching, not the job). An orchestrator that restarts, or a standby that takes over, closes the stream: watch then
/// reconnects (the new stream starts with the job as it is) for up to <c>--reconnect-for</c>.
/// </summary>
public static class WatchCommand
{
    public static readonly TimeSpan DefaultReconnectFor = TimeSpan.FromMinutes(10);
    static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(1);

    public static Command Create()
    {
        var id = new Argument<string>("ID") { Description = "Job id" };
        var reconnectFor = new Option<double>("--reconnect-for")
        {
            Description = "Seconds to keep reconnecting to an orchestrator that went away before the job ended (0 = do not)",
            DefaultValueFactory = _ => DefaultReconnectFor.TotalSeconds,
        };
        return CliContext.Verb("watch", "Follow a job's progress until it ends.", async (parse, cli, cancellation) =>
        {
            var budget = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(reconnectFor)));
            var request = new WatchJobRequest { Id = parse.GetValue(id)! };
            Job? last = null;
            DateTime? lostAt = null;
            while (true)
            {
                try
                {
                    using var call = cli.Jobs.Watch(request, cancellationToken: cancellation);
                    await foreach (var jobEvent in call.ResponseStream.ReadAllAsync(cancellation))
                    {
                        lostAt = null;
                        last = jobEvent.Job;
                        Print(cli, jobEvent);
                    }
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown or StatusCode.Cancelled
                                             && !cancellation.IsCancellationRequested)
                {
                    // The orchestrator went away mid-stream; handled below like a stream that ended early.
                }
                if (last is { State: JobState.Succeeded or JobState.Failed or JobState.Cancelled }) break;
                lostAt ??= DateTime.UtcNow;
                if (DateTime.UtcNow - lostAt > budget)
                    return CliContext.Fail($"the orchestrator closed the stream before the job ended and was not back within {budget.TotalSeconds:0} s; watch again");
                if (!cli.Json) AnsiConsole.MarkupLine("[grey]the orchestrator closed the stream (restarting?); reconnecting…[/]");
                await Task.Delay(RetryEvery, cancellation);
            }
            return last.State switch
            {
                JobState.Succeeded => 0,
                JobState.Failed => CliContext.Fail($"job failed: {last.FailureReason}"),
                _ => 4,
            };
        }, id, reconnectFor);
    }

    static void Print(CliContext cli, JobEvent jobEvent)
    {
        if (cli.Json) cli.PrintJson(jobEvent);
        else AnsiConsole.MarkupLine($"{JobFormatting.Time(jobEvent.At)} {JobFormatting.Colored(jobEvent.Job.State)} " +
                                    $"{Markup.Escape(JobFormatting.Progress(jobEvent.Job.Progress))} [grey]{Markup.Escape(jobEvent.Message)}[/]");
    }
}
