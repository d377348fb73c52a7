using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Torch;

/// <summary>The agent sets the torch thread count on one thread and trains on another: the count must be process-wide.</summary>
[Collection(TorchThreadsCollection.Name)]
public class TorchThreadCountTests
{
    [Fact]
    public void SetThreads_CalledOnAnotherThread_AlsoLimitsANewThread()
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        var original = get_num_threads();
        int inherited = 0, ownSetting = 0;
        try
        {
            TorchRuntime.SetThreads(1);

            // Act: a new thread reads its count, then sets its own.
            var thread = new Thread(() =>
            {
                inherited = get_num_threads();
                TorchRuntime.SetThreads(1);
                ownSetting = get_num_threads();
            });
            thread.Start();
            thread.Join();
        }
        finally
        {
            TorchRuntime.SetThreads(original);
        }

        // Assert: the new thread runs with 1 thread before its own call (two ranks on one machine do not oversubscribe it).
        Assert.Equal(1, inherited);
        Assert.Equal(1, ownSetting);
    }
}
