using Grpc.Core;
using Serilog;
using Serilog.Context;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Agent;

namespace SpectralDiffusion.Worker.Tests.Agent;

public class LogShipperTests
{
    /// <summary>A Workers client whose ShipLogs records each batch, or fails with <see cref="Failure"/> while it is set.</summary>
    sealed class RecordingWorkers : Workers.WorkersClient
    {
        public List<LogBatch> Batches { get; } = [];
        public StatusCode? Failure { get; set; }

        public override AsyncUnaryCall<LogReceipt> ShipLogsAsync(LogBatch request, Metadata? headers = null, DateTime? deadline = null,
            CancellationToken cancellationToken = default)
        {
            var response = Failure is { } code
                ? Task.FromException<LogReceipt>(new RpcException(new Status(code, "orchestrator down")))
                : Task.FromResult(new LogReceipt { Stored = request.Lines.Count });
            if (Failure is null) Batches.Add(request.Clone());
            return new AsyncUnaryCall<LogReceipt>(response, Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
        }
    }

    static (AttemptLogQueue Queue, ILogger Log, RecordingWorkers Workers, LogShipper Shipper) Setup()
    {
        var queue = new AttemptLogQueue();
        var workers = new RecordingWorkers();
        return (queue, new LoggerConfiguration().Enrich.FromLogContext().WriteTo.Sink(queue).CreateLogger(), workers,
            new LogShipper(workers, "worker-1", queue, new LoggerConfiguration().CreateLogger()));
    }

    static void Write(ILogger log, string job, int rank, string text)
    {
        using (LogContext.PushProperty("JobId", job))
        using (LogContext.PushProperty("Attempt", 1))
        using (LogContext.PushProperty("Rank", rank))
            log.Information(text);
    }

    [Fact]
    public async Task ShipAsync_LinesOfTwoRanks_OneBatchPerRankInWrittenOrder()
    {
        var (_, log, workers, shipper) = Setup();
        Write(log, "job", 0, "a0");
        Write(log, "job", 1, "b0");
        Write(log, "job", 0, "a1");

        await shipper.ShipAsync(CancellationToken.None);

        Assert.Equal([0, 1], workers.Batches.Select(b => b.Rank));
        Assert.Equal(["a0", "a1"], workers.Batches[0].Lines.Select(l => l.Text.ToStringUtf8()));
        Assert.Equal(["b0"], workers.Batches[1].Lines.Select(l => l.Text.ToStringUtf8()));
        Assert.All(workers.Batches, b => Assert.Equal(("worker-1", "job", 1, 0L), (b.WorkerId, b.JobId, b.Attempt, b.Dropped)));
    }

    [Fact]
    public async Task ShipAsync_AfterAnOutage_NextBatchReportsTheLostLines()
    {
        var (queue, log, workers, shipper) = Setup();
        Write(log, "job", 0, "lost 1");
        Write(log, "job", 0, "lost 2");
        workers.Failure = StatusCode.Unavailable;
        await shipper.ShipAsync(CancellationToken.None);
        workers.Failure = null;
        Write(log, "job", 0, "after");

        await shipper.ShipAsync(CancellationToken.None);

        var batch = Assert.Single(workers.Batches);
        Assert.Equal(2, batch.Dropped);
        Assert.Equal("WRN", batch.Lines[0].Level);
        Assert.StartsWith("2 log lines of this rank were dropped", batch.Lines[0].Text.ToStringUtf8());
        Assert.Equal("after", batch.Lines[^1].Text.ToStringUtf8());
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task ShipAsync_RefusedBatch_NotCountedAgain()
    {
        var (_, log, workers, shipper) = Setup();
        Write(log, "gone-job", 0, "for a job the orchestrator no longer has");
        workers.Failure = StatusCode.NotFound;
        await shipper.ShipAsync(CancellationToken.None);
        workers.Failure = null;

        await shipper.ShipAsync(CancellationToken.None);

        Assert.Empty(workers.Batches);
    }

    [Fact]
    public async Task Shipped_AfterAnOutageAndARecovery_CountsOnlyDeliveredLinesAndBatches()
    {
        var (queue, log, workers, shipper) = Setup();
        Write(log, "job", 0, "lost");
        workers.Failure = StatusCode.Unavailable;
        await shipper.ShipAsync(CancellationToken.None);
        workers.Failure = null;
        Write(log, "job", 0, "a");
        Write(log, "job", 1, "b");

        await shipper.ShipAsync(CancellationToken.None);

        var (lines, batches, time) = shipper.Shipped;
        Assert.Equal(2, lines);
        Assert.Equal(2, batches);
        Assert.True(time > TimeSpan.Zero && queue.EmitTime > TimeSpan.Zero, $"shipping {time}, queuing {queue.EmitTime}");
    }
}
