using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Training;
using Xunit.Abstractions;

namespace SpectralDiffusion.EndToEnd.Tests.Distributed;

/// <summary>Data parallelism across real worker processes, through the orchestrator, over the TCP ring.</summary>
[Collection(EndToEndCollection.Name)]
public class DataParallelProcessTests(ITestOutputHelper output)
{
    static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Distill_TwoWorkersBatchFour_EqualsOneWorkerBatchEight()
    {
        // Arrange: a cluster with two CPU workers and a teacher file both can read.
        await using var cluster = await LocalCluster.StartAsync(output);
        var teacher = TinySpecs.WriteTeacher(cluster.Root);
        cluster.StartWorker("worker-a");
        cluster.StartWorker("worker-b");

        // Act: the same distillation, 2 ranks x batch 4 and 1 rank x batch 8, 4 steps each.
        var parallel = await cluster.SubmitAsync(TinySpecs.Distill(teacher, steps: 4, batch: 4, world: 2));
        await cluster.WaitForAsync(parallel, JobTimeout, JobState.Succeeded);
        var single = await cluster.SubmitAsync(TinySpecs.Distill(teacher, steps: 4, batch: 8, world: 1));
        await cluster.WaitForAsync(single, JobTimeout, JobState.Succeeded);

        // Assert: the raw student parameters of the final checkpoints agree.
        var parallelState = await FinalStateAsync(cluster, parallel);
        var singleState = await FinalStateAsync(cluster, single);
        var compared = 0;
        foreach (var (name, tensor) in singleState.Tensors.Where(t => t.Key.StartsWith("model.", StringComparison.Ordinal)))
        {
            Assert.True(tensor.allclose(parallelState.Tensors[name], rtol: 1e-4, atol: 1e-5), $"{name} differs between 2x4 and 1x8");
            compared++;
        }
        Assert.True(compared > 100, $"compared only {compared} tensors");
        Assert.Equal(4, parallelState.Step);
        // Rank 0 reported its gradient synchronisation time; the rank alone has none to report.
        var allReduce = await cluster.History.GetMetricSeriesAsync(new GetMetricSeriesRequest { JobId = parallel, Name = DiffusionTrainer.AllReduceSecondsMetric });
        var alone = await cluster.History.GetMetricSeriesAsync(new GetMetricSeriesRequest { JobId = single, Name = DiffusionTrainer.AllReduceSecondsMetric });
        Assert.NotEmpty(allReduce.Samples);
        Assert.All(allReduce.Samples, s => Assert.True(s.Value > 0, $"step {s.Step}: all-reduce {s.Value} s"));
        Assert.Empty(alone.Samples);
    }

    internal static async Task<TrainingState> FinalStateAsync(LocalCluster cluster, string jobId)
    {
        var checkpoints = await cluster.History.ListCheckpointsAsync(new ListCheckpointsRequest { JobId = jobId });
        var newest = checkpoints.Checkpoints.Where(c => c.Complete).OrderByDescending(c => c.Step).First();
        // The checkpoint consolidated by the orchestrator: one shard of world size 1 holding every rank's tensors.
        return TrainingState.ReadShards([await cluster.DownloadAsync(jobId, "checkpoint:" + newest.Step)]);
    }
}
