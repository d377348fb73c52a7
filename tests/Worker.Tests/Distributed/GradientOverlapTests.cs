using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Distributed;

public class GradientOverlapTests
{
    const int WarmupSteps = 1, TrialSteps = 2;

    /// <summary>A clock under which synchronisation number i (two timestamps: its start and its end) takes <paramref name="seconds"/>(i).</summary>
    sealed class SynchronisationClock(Func<int, double> seconds) : TimeProvider
    {
        long now;
        int calls;

        public override long TimestampFrequency => 1_000_000_000;

        public override long GetTimestamp()
        {
            var call = calls++;
            if (call % 2 == 1) now += (long)Math.Round(seconds(call / 2) * TimestampFrequency);
            return now;
        }
    }

    /// <summary>Three parameters whose gradients differ by rank: with 1 KiB buckets, several buckets.</summary>
    static List<Parameter> RankGradients(int rank)
    {
        var generator = new Generator((ulong)(rank + 17));
        var parameters = new[] { 300L, 40, 500 }.Select(n => new Parameter(zeros(n))).ToList();
        var loss = stack(parameters.Select(p => p.mul(randn(p.shape, generator: generator)).sum()).ToList()).sum();
        loss.backward();
        return parameters;
    }

    [Theory]
    [InlineData(0.010, 0.008, 0.010, 0.014, false)] // rank 0 alone would overlap, rank 1 not; the sums say off
    [InlineData(0.010, 0.004, 0.010, 0.012, true)]  // the same disagreement; the sums say on
    public void SynchronizeGradients_AutoWithRanksMeasuringDifferently_EveryRankChoosesTheSummedFaster(
        double rank0Off, double rank0On, double rank1Off, double rank1On, bool overlapExpected)
    {
        // Arrange: each rank's clock makes its synchronisations take its own time per mode.
        TorchRuntime.EnsureLoaded();
        using var group = new RingGroup(2);
        var seconds = new[] { (Off: rank0Off, On: rank0On), (Off: rank1Off, On: rank1On) };
        var options = new GradientSynchronizerOptions { BucketBytes = 1024, OverlapWarmupSteps = WarmupSteps, OverlapTrialSteps = TrialSteps };

        // Act: one more synchronisation than the trial needs.
        var results = group.Run(ring =>
        {
            var clock = new SynchronisationClock(i => OverlapTrial.Overlaps(i, WarmupSteps) ? seconds[ring.Rank].On : seconds[ring.Rank].Off);
            using var synchronizer = new GradientSynchronizer(ring, options, clock);
            var chosen = new List<GradientOverlapChoice>();
            synchronizer.OverlapChosen += chosen.Add;
            var parameters = RankGradients(ring.Rank);
            for (var step = 0; step < WarmupSteps + 2 * TrialSteps + 1; step++) synchronizer.SynchronizeGradients(parameters);
            return chosen;
        });

        // Assert: one choice per rank, the same on both, from the means over ranks.
        Assert.All(results, chosen => Assert.Single(chosen));
        Assert.Equal(results[0][0], results[1][0]);
        Assert.Equal(overlapExpected, results[0][0].Overlap);
        Assert.Equal((rank0Off + rank1Off) / 2 * 1e3, results[0][0].OffMilliseconds, precision: 9);
        Assert.Equal((rank0On + rank1On) / 2 * 1e3, results[0][0].OnMilliseconds, precision: 9);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SynchronizeGradients_OverlapOnAndOff_GiveBitIdenticalMeans(bool sharedMemory)
    {
        // Arrange
        TorchRuntime.EnsureLoaded();

        // Act: the same local gradients synchronised without and with overlap.
        var results = sharedMemory ? SynchronizeBothWays(new SharedMemoryGroup(2)) : SynchronizeBothWays(new RingGroup(2));

        // Assert: bit for bit the same in both modes and on both ranks, and not a rank's own gradient.
        foreach (var result in results)
        {
            Assert.Equal(result.Off, result.On);
            Assert.Equal(results[0].Off, result.Off);
            Assert.NotEqual(result.Local, result.Off);
        }
    }

    static (List<byte[]> Local, List<byte[]> Off, List<byte[]> On)[] SynchronizeBothWays<T>(CollectiveGroup<T> group) where T : ICollective
    {
        using var _ = group;
        return group.Run(collective =>
        {
            var parameters = RankGradients(collective.Rank);
            var local = parameters.Select(p => p.grad!.clone()).ToList();
            List<byte[]> Synchronize(GradientOverlap overlap)
            {
                using (no_grad())
                    foreach (var (parameter, gradient) in parameters.Zip(local)) parameter.grad!.copy_(gradient);
                using var synchronizer = new GradientSynchronizer(collective, new GradientSynchronizerOptions { BucketBytes = 1024, Overlap = overlap });
                synchronizer.SynchronizeGradients(parameters);
                return parameters.Select(p => p.grad!.bytes.ToArray()).ToList();
            }
            var off = Synchronize(GradientOverlap.Off);
            return (local.Select(g => g.bytes.ToArray()).ToList(), off, Synchronize(GradientOverlap.On));
        });
    }

    [Fact]
    public void SynchronizeGradients_AutoWithOneBucket_ChoosesOffWithoutMeasuring()
    {
        // Arrange: the default 25 MB buckets hold every gradient of this model in one.
        TorchRuntime.EnsureLoaded();
        using var group = new RingGroup(2);

        // Act
        var choices = group.Run(ring =>
        {
            using var synchronizer = new GradientSynchronizer(ring);
            synchronizer.SynchronizeGradients(RankGradients(ring.Rank));
            return synchronizer.OverlapChoice;
        });

        // Assert
        Assert.All(choices, choice =>
        {
            Assert.NotNull(choice);
            Assert.False(choice.Overlap);
            Assert.Contains("one gradient bucket", choice.Measurement);
        });
    }

    [Fact]
    public void Overlaps_TrialSteps_RunEachModeEquallyOftenAndEquallyOftenFirst()
    {
        // Arrange
        const int warmup = 2, trial = 4;

        // Act
        var modes = Enumerable.Range(0, warmup + 2 * trial).Select(step => OverlapTrial.Overlaps(step, warmup)).ToList();

        // Assert: the warm-up runs without overlap; the trial holds each mode `trial` times, each leading half of its pairs.
        Assert.All(modes.Take(warmup), overlap => Assert.False(overlap));
        var trialModes = modes.Skip(warmup).ToList();
        Assert.Equal(trial, trialModes.Count(overlap => overlap));
        var pairsLedByOverlap = trialModes.Chunk(2).Count(pair => pair[0]);
        Assert.Equal(trial / 2, pairsLedByOverlap);
    }

    [Fact]
    public void Record_AfterEveryTrialStep_FinishesWithEachModesMedian()
    {
        // Arrange: warm-up steps are slow (first-call costs) and must not count.
        var trial = new OverlapTrial(warmupSteps: 1, trialSteps: 3);
        double[] durations = [9.0, 1.0, 2.0, 4.0, 3.0, 5.0, 7.0];

        // Act
        foreach (var seconds in durations.Take(durations.Length - 1)) trial.Record(seconds);
        var finishedEarly = trial.Finished;
        trial.Record(durations[^1]);

        // Assert: steps 1..6 run off, on, on, off, off, on: off {1, 3, 5}, on {2, 4, 7}.
        Assert.False(finishedEarly);
        Assert.True(trial.Finished);
        Assert.Equal((3.0, 4.0), trial.Medians());
    }
}
