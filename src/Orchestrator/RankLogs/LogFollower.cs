using System.Runtime.CompilerServices;

namespace SpectralDiffusion.Orchestrator.RankLogs;

/// <summary>A line to show, with how many lines of its rank were omitted just before it (the cap's middle, or lines the tail passed).</summary>
public sealed record ShownLogLine(StoredLogLine Line, long OmittedBefore);

/// <summary>
/// A job's lines page by page in arrival order; with follow, new lines as they arrive until the job has ended and a
/// grace period has passed (a rank ships its last lines, such as the error that failed it, just after it reports the end).
/// </summary>
public sealed class LogFollower(LogReader reader, TimeProvider time)
{
    public static readonly TimeSpan DefaultPoll = TimeSpan.FromMilliseconds(500), DefaultGrace = TimeSpan.FromSeconds(3);

    public TimeSpan Poll { get; init; } = DefaultPoll;
    public TimeSpan Grace { get; init; } = DefaultGrace;

    public async IAsyncEnumerable<ShownLogLine> ReadAsync(LogFilter filter, bool follow, [EnumeratorCancellation] CancellationToken cancellation)
    {
        var last = new Dictionary<(int Attempt, int Rank), long>();
        var after = 0L;
        DateTimeOffset? endedAt = null;
        while (true)
        {
            // Whether the job had ended is read before the page: a line stored after that read is still seen next time.
            var ended = follow && (await reader.JobAsync(filter.JobId, cancellation))?.Ended != false;
            var page = await reader.PageAsync(filter, after, LogReader.PageLines, cancellation);
            foreach (var line in page)
            {
                var previous = last.GetValueOrDefault((line.Attempt, line.Rank));
                last[(line.Attempt, line.Rank)] = line.Sequence;
                after = line.Id;
                yield return new ShownLogLine(line, Math.Max(0, line.Sequence - previous - 1));
            }
            if (page.Count == LogReader.PageLines) continue;
            if (!follow) yield break;
            if (ended)
            {
                endedAt ??= time.GetUtcNow();
                if (time.GetUtcNow() - endedAt >= Grace) yield break;
            }
            await Task.Delay(Poll, time, cancellation);
        }
    }
}
