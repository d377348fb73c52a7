using System.Runtime;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Worker.Tests.Torch;

// The no-GC region is process-wide: run alone so no other test's block joins it.
[Collection(TorchThreadsCollection.Name)]
public class CollectionPauseTests
{
    [Fact]
    public async Task Run_BlocksOverlapOnTwoThreads_RegionHeldUntilTheLastLeaves()
    {
        using var firstInside = new ManualResetEventSlim();
        using var firstLeft = new ManualResetEventSlim();
        GCLatencyMode? modeAfterFirstLeft = null;
        var second = Task.Run(() =>
        {
            firstInside.Wait();
            CollectionPause.Run(() =>
            {
                firstLeft.Wait();
                modeAfterFirstLeft = GCSettings.LatencyMode;
            });
        });

        CollectionPause.Run(() =>
        {
            firstInside.Set();
            Assert.True(SpinWait.SpinUntil(() => CollectionPause.Holders == 2, TimeSpan.FromSeconds(30)), "the second block never entered");
        });
        firstLeft.Set();
        await second.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(GCLatencyMode.NoGCRegion, modeAfterFirstLeft);
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        Assert.Equal(0, CollectionPause.Holders);
    }

    [Fact]
    public void Run_Nested_OneRegionEndedByTheOuterBlock()
    {
        GCLatencyMode? innerEnd = null;
        CollectionPause.Run(() =>
        {
            CollectionPause.Run(() => Assert.Equal(2, CollectionPause.Holders));
            innerEnd = GCSettings.LatencyMode;
        });

        Assert.Equal(GCLatencyMode.NoGCRegion, innerEnd);
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }
}
