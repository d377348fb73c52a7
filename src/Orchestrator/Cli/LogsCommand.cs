extern alias contracts;
using System.CommandLine;
using Grpc.Core;
using SpectralDiffusion.Shared.Contracts.V1;
using Clients = contracts::SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary>
/// <c>orchestrator logs ID [--rank N] [--attempt N] [--follow]</c>: the job's log lines as its ranks shipped them, one
/// line each, prefixed with attempt and rank; where the size cap left a rank's middle out, a line says how many were
/// omitted. <c>--follow</c> keeps printing new lines until the job ends; <c>--json</c> prints one JSON object a line.
/// </summary>
public static class LogsCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("ID") { Description = "Job id" };
        var rank = new Option<int?>("--rank") { Description = "Only this rank's lines" };
        var attempt = new Option<int?>("--attempt") { Description = "Only this attempt's lines (default: every attempt)" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines until the job ends" };
        return CliContext.Verb("logs", "Print a job's log lines (every rank, or one), optionally following them.", async (parse, cli, cancellation) =>
        {
            var request = new ReadLogsRequest { JobId = parse.GetValue(id)!, Follow = parse.GetValue(follow) };
            if (parse.GetValue(rank) is { } r) request.Rank = r;
            if (parse.GetValue(attempt) is { } a) request.Attempt = a;
            using var call = new Clients.Logs.LogsClient(cli.Invoker).Read(request, cancellationToken: cancellation);
            await foreach (var line in call.ResponseStream.ReadAllAsync(cancellation))
            {
                if (cli.Json) Console.WriteLine(CliContext.ToJson(line));
                else
                {
                    if (line.OmittedBefore > 0) Console.WriteLine($"{Prefix(line)} … {line.OmittedBefore} lines omitted (the log's size cap keeps the head and the tail) …");
                    Console.WriteLine(Format(line));
                }
            }
            return 0;
        }, id, rank, attempt, follow);
    }

    /// <summary>"[attempt 1 rank 0] 12:34:56.789 ERR text", the time in UTC.</summary>
    public static string Format(LogLine line) => $"{Prefix(line)} {line.Time.ToDateTime():HH:mm:ss.fff} {line.Level} {line.Text}";

    static string Prefix(LogLine line) => $"[attempt {line.Attempt} rank {line.Rank}]";
}
