using Serilog;
using Serilog.Context;
using SpectralDiffusion.Worker.Agent;

namespace SpectralDiffusion.Worker.Tests.Agent;

public class AttemptLogQueueTests
{
    static ILogger LoggerInto(AttemptLogQueue queue) => new LoggerConfiguration().Enrich.FromLogContext().WriteTo.Sink(queue).CreateLogger();

    static IDisposable InAttempt(string job, int attempt, int rank) =>
        new CompositeDisposable(LogContext.PushProperty("JobId", job), LogContext.PushProperty("Attempt", attempt), LogContext.PushProperty("Rank", rank));

    [Fact]
    public void Emit_FloodPastCapacity_KeepsTheFirstLinesAndCountsTheRestAsDropped()
    {
        var queue = new AttemptLogQueue(capacity: 100);
        var log = LoggerInto(queue);

        using (InAttempt("job-a", 1, 0))
            for (var i = 0; i < 10_000; i++) log.Information("line {Index}", i);
        var (lines, dropped) = queue.Take(1_000);

        Assert.Equal(100, lines.Count);
        Assert.Equal("line 99", lines[^1].Text);
        Assert.Equal(9_900, dropped[new AttemptRank("job-a", 1, 0)]);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Emit_OutsideAnAttempt_NotQueued()
    {
        var queue = new AttemptLogQueue();
        var log = LoggerInto(queue);

        log.Information("Registered as {WorkerId}", "w-1");
        using (LogContext.PushProperty("JobId", "job-b"))
            log.Information("a job but no attempt or rank");

        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Emit_ErrorWithException_LevelTimeAndTextWithTheException()
    {
        var queue = new AttemptLogQueue();
        var log = LoggerInto(queue);
        var before = DateTimeOffset.UtcNow;

        using (InAttempt("job-c", 2, 1))
            log.Error(new InvalidDataException("checkpoint shard 3 is truncated"), "Attempt {Attempt} of job {JobId} failed on rank {Rank}", 2, "job-c", 1);
        var line = Assert.Single(queue.Take(10).Lines);

        Assert.Equal(new AttemptRank("job-c", 2, 1), line.Owner);
        Assert.Equal("ERR", line.Level);
        Assert.StartsWith("Attempt 2 of job job-c failed on rank 1", line.Text);
        Assert.Contains("InvalidDataException: checkpoint shard 3 is truncated", line.Text);
        Assert.True(line.Time >= before);
    }

    sealed class CompositeDisposable(params IDisposable[] parts) : IDisposable
    {
        public void Dispose()
        {
            foreach (var part in parts.Reverse()) part.Dispose();
        }
    }
}
