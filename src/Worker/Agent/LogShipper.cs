using System.Diagnostics;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Serilog;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>
/// Ships what <see cref="AttemptLogQueue"/> holds to the orchestrator (Workers.ShipLogs) every <see cref="Interval"/>,
/// one batch per rank of an attempt, and once more when the session ends. A batch that cannot be delivered is counted as
/// dropped, not retried: the queue stays bounded through an outage, and the next batch of that rank says how many lines
/// were lost.
/// </summary>
public sealed class LogShipper(Workers.WorkersClient workers, string workerId, AttemptLogQueue queue, ILogger log, TimeProvider? clock = null)
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(1);
    static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(10);
    const int BatchLines = 1_000;

    readonly TimeProvider time = clock ?? TimeProvider.System;
    long shipTicks, linesShipped, batchesSent;
    public TimeSpan Interval { get; init; } = DefaultInterval;

    /// <summary>What this shipper has sent, and the wall time its batches took (an upper bound of the CPU they cost).</summary>
    public (long Lines, long Batches, TimeSpan Time) Shipped =>
        (Interlocked.Read(ref linesShipped), Interlocked.Read(ref batchesSent), Stopwatch.GetElapsedTime(0, Interlocked.Read(ref shipTicks)));

    /// <summary>Ships every <see cref="Interval"/> until <paramref name="session"/> ends, then ships what is left.</summary>
    public async Task RunAsync(CancellationToken session)
    {
        try
        {
            while (true)
            {
                await Task.Delay(Interval, time, session);
                await ShipAsync(session);
            }
        }
        catch (OperationCanceledException) when (session.IsCancellationRequested) { }
        await ShipAsync(CancellationToken.None);
    }

    /// <summary>Ships everything queued now, a batch of at most 1,000 lines per rank of an attempt at a time.</summary>
    public async Task ShipAsync(CancellationToken cancellation)
    {
        var started = Stopwatch.GetTimestamp();
        try { await ShipQueuedAsync(cancellation); }
        finally { Interlocked.Add(ref shipTicks, Stopwatch.GetTimestamp() - started); }
    }

    async Task ShipQueuedAsync(CancellationToken cancellation)
    {
        while (true)
        {
            var (lines, dropped) = queue.Take(BatchLines);
            if (lines.Count == 0 && dropped.Count == 0) return;
            var owners = lines.Select(l => l.Owner).Concat(dropped.Keys).Distinct();
            foreach (var owner in owners)
                await SendAsync(owner, lines.Where(l => l.Owner == owner).ToList(), dropped.GetValueOrDefault(owner), cancellation);
            if (lines.Count < BatchLines) return;
        }
    }

    async Task SendAsync(AttemptRank owner, List<QueuedLogLine> lines, long dropped, CancellationToken cancellation)
    {
        var batch = new LogBatch { WorkerId = workerId, JobId = owner.JobId, Attempt = owner.Attempt, Rank = owner.Rank, Dropped = dropped };
        if (dropped > 0)
            batch.Lines.Add(Line(time.GetUtcNow(), "WRN", $"{dropped} log lines of this rank were dropped: the agent's log queue was full or the orchestrator unreachable"));
        batch.Lines.AddRange(lines.Select(l => Line(l.Time, l.Level, l.Text)));
        try
        {
            await workers.ShipLogsAsync(batch, deadline: DateTime.UtcNow + CallDeadline, cancellationToken: cancellation);
            Interlocked.Add(ref linesShipped, lines.Count);
            Interlocked.Increment(ref batchesSent);
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException)
        {
            // Lost to an outage: reported with the rank's next batch. Refused (the job is gone): nothing will take them.
            if (e is OperationCanceledException or RpcException { StatusCode: StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled })
                queue.CountDropped(owner, lines.Count + dropped);
            log.Warning("Could not ship {Lines} log lines of job {JobId} attempt {Attempt} rank {Rank}: {Reason}",
                lines.Count, owner.JobId, owner.Attempt, owner.Rank, e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : "cancelled");
        }
    }

    static ShippedLogLine Line(DateTimeOffset time, string level, string text) =>
        new() { Time = Timestamp.FromDateTimeOffset(time), Level = level, Text = ByteString.CopyFromUtf8(text) };
}
