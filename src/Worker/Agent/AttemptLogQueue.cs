using System.Diagnostics;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>The rank of an attempt a log line belongs to.</summary>
public readonly record struct AttemptRank(string JobId, int Attempt, int Rank);

/// <summary>A line queued for shipping: time, Serilog's three-letter level, the rendered text (with the exception, if any).</summary>
public sealed record QueuedLogLine(AttemptRank Owner, DateTimeOffset Time, string Level, string Text);

/// <summary>
/// A Serilog sink that keeps the lines written inside an attempt (the events that carry the JobId, Attempt and Rank
/// properties the attempt runner pushes) for <see cref="LogShipper"/>. The queue is bounded: when it is full a new line
/// is dropped and counted against its attempt's rank, so a rank that floods its log costs a counter, not memory. Each line
/// is cut to <see cref="MaxLineChars"/>.
/// </summary>
public sealed class AttemptLogQueue(int capacity = AttemptLogQueue.DefaultCapacity) : ILogEventSink
{
    public const int DefaultCapacity = 4_096, MaxLineChars = 4_096;

    // As the console shows it: string values without quotes, structures as JSON.
    static readonly MessageTemplateTextFormatter MessageOnly = new("{Message:lj}");

    readonly Lock gate = new();
    readonly Queue<QueuedLogLine> lines = new();
    readonly Dictionary<AttemptRank, long> dropped = [];
    long emitTicks;

    /// <summary>Time spent rendering and queuing lines since the queue was made (Stopwatch time, summed over threads).</summary>
    public TimeSpan EmitTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref emitTicks));

    public void Emit(LogEvent logEvent)
    {
        if (Owner(logEvent) is not { } owner) return;
        var started = Stopwatch.GetTimestamp();
        try { Enqueue(logEvent, owner); }
        finally { Interlocked.Add(ref emitTicks, Stopwatch.GetTimestamp() - started); }
    }

    void Enqueue(LogEvent logEvent, AttemptRank owner)
    {
        using var rendered = new StringWriter();
        MessageOnly.Format(logEvent, rendered);
        var text = rendered.ToString();
        if (logEvent.Exception is { } exception) text += Environment.NewLine + exception;
        if (text.Length > MaxLineChars) text = text[..(MaxLineChars - 1)] + "…";
        var line = new QueuedLogLine(owner, logEvent.Timestamp, LevelName(logEvent.Level), text);
        lock (gate)
        {
            if (lines.Count < capacity) lines.Enqueue(line);
            else dropped[owner] = dropped.GetValueOrDefault(owner) + 1;
        }
    }

    /// <summary>Lines queued now (oldest first, at most <paramref name="max"/>) and the drops counted since the last take.</summary>
    public (List<QueuedLogLine> Lines, Dictionary<AttemptRank, long> Dropped) Take(int max)
    {
        lock (gate)
        {
            var taken = new List<QueuedLogLine>(Math.Min(max, lines.Count));
            while (taken.Count < max && lines.TryDequeue(out var line)) taken.Add(line);
            var drops = new Dictionary<AttemptRank, long>(dropped);
            dropped.Clear();
            return (taken, drops);
        }
    }

    /// <summary>Counts lines that were taken but could not be delivered, so the next batch of their rank reports them.</summary>
    public void CountDropped(AttemptRank owner, long count)
    {
        lock (gate) dropped[owner] = dropped.GetValueOrDefault(owner) + count;
    }

    public int Count
    {
        get { lock (gate) return lines.Count; }
    }

    static AttemptRank? Owner(LogEvent logEvent) =>
        logEvent.Properties.TryGetValue("JobId", out var job) && job is ScalarValue { Value: { } jobId }
        && logEvent.Properties.TryGetValue("Attempt", out var attempt) && attempt is ScalarValue { Value: int attemptNumber }
        && logEvent.Properties.TryGetValue("Rank", out var rank) && rank is ScalarValue { Value: int rankNumber }
            ? new AttemptRank(jobId.ToString()!, attemptNumber, rankNumber)
            : null;

    static string LevelName(LogEventLevel level) => level switch
    {
        LogEventLevel.Verbose => "VRB",
        LogEventLevel.Debug => "DBG",
        LogEventLevel.Information => "INF",
        LogEventLevel.Warning => "WRN",
        LogEventLevel.Error => "ERR",
        _ => "FTL",
    };
}
