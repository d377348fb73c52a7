using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.RankLogs;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Services;

/// <summary>spectral.v1.Logs: checks the filter (NOT_FOUND naming an unknown job, attempt or rank) and streams what <see cref="LogFollower"/> reads.</summary>
internal sealed class LogsService(LogReader reader, LogFollower follower, IHostApplicationLifetime lifetime) : Logs.LogsBase
{
    public override async Task Read(ReadLogsRequest request, IServerStreamWriter<LogLine> responseStream, ServerCallContext context)
    {
        var filter = new LogFilter(Ids.Parse(request.JobId, "job_id"), request.HasAttempt ? request.Attempt : null, request.HasRank ? request.Rank : null);
        await reader.CheckAsync(filter, context.CancellationToken);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            await foreach (var (line, omitted) in follower.ReadAsync(filter, request.Follow, stop.Token))
                await responseStream.WriteAsync(new LogLine
                {
                    Attempt = line.Attempt, Rank = line.Rank, Sequence = line.Sequence, Time = Timestamp.FromDateTime(line.Time),
                    Level = line.Level, Text = line.Text, OmittedBefore = omitted,
                }, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
    }
}
