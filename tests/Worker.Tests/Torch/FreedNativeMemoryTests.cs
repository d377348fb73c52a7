using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Torch;

/// <summary>Measures the process's resident memory, so it runs alone.</summary>
[Collection(TorchThreadsCollection.Name)]
public class FreedNativeMemoryTests
{
    [Fact]
    public void Release_TensorsFreedUnderAPinnedHeapTop_ReturnsTheirPagesToTheSystem()
    {
        if (!OperatingSystem.IsLinux()) return;
        // Arrange: on a thread of its own (as a job runs), 192 MB of 64 KB tensors (below malloc's mmap threshold, so
        // they live in the thread's arena), then one small tensor on top that stays: freeing the others leaves free
        // memory under it, which free() alone cannot give back.
        Tensor? pin = null;
        var thread = new Thread(() =>
        {
            var blocks = Enumerable.Range(0, 3072).Select(_ => ones(16 * 1024)).ToList();
            pin = ones(16);
            foreach (var block in blocks) block.Dispose();
        });
        thread.Start();
        thread.Join();
        var held = FreedNativeMemory.ResidentMegabytes();

        // Act
        var (before, after) = FreedNativeMemory.Release();

        // Assert
        Assert.True(before - after >= 100, $"resident memory {before:0} MB before, {after:0} MB after (held {held:0} MB): expected at least 100 MB back");
        Assert.Equal(16, pin!.sum().item<float>());
        pin.Dispose();
    }
}
