using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Worker.Tests.Data;

public class PrefetchingLoaderTests
{
    [Fact]
    public void Next_ProceduralDataset_YieldsSamplerOrderWithMatchingPixels()
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        var dataset = new ProceduralTextureDataset(12, 8, seed: 3, classes: 2);
        var reference = new ShardedBatchSampler(12, 4, seed: 9);

        // Act
        HostBatch[] batches;
        using (var loader = new PrefetchingLoader(dataset, new ShardedBatchSampler(12, 4, seed: 9), prefetch: 2))
            batches = Enumerable.Range(0, 5).Select(_ => loader.Next()).ToArray();

        // Assert
        foreach (var batch in batches)
        {
            var expectedIndices = reference.Next();
            Assert.Equal(expectedIndices, batch.Indices);
            Assert.Equal(reference.State, batch.ResumeState);
            var (image, label) = dataset.Get(expectedIndices[1]);
            Assert.True(batch.Images()[1].eq(image).all().item<bool>());
            Assert.Equal(label, batch.ClassLabels()[1].item<long>());
        }
    }

    [Fact]
    public void Next_RandomFlip_FlipsSomeItemsExactlyMirrored()
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        var dataset = new ProceduralTextureDataset(16, 8, seed: 1);

        // Act
        using var loader = new PrefetchingLoader(dataset, new ShardedBatchSampler(16, 16, seed: 0), randomHorizontalFlip: true, flipSeed: 5);
        var batch = loader.Next();
        var images = batch.Images();

        // Assert: every item is either the original or its mirror, and both occur.
        var flipped = 0;
        for (var i = 0; i < 16; i++)
        {
            var original = dataset.Get(batch.Indices[i]).Image;
            if (images[i].eq(original.flip(2)).all().item<bool>() && !images[i].eq(original).all().item<bool>()) flipped++;
            else Assert.True(images[i].eq(original).all().item<bool>());
        }
        Assert.InRange(flipped, 1, 15);
    }

    [Fact]
    public void Next_DatasetThrows_RethrowsWithCause()
    {
        using var loader = new PrefetchingLoader(new FailingDataset(), new ShardedBatchSampler(4, 2, seed: 0));

        var error = Assert.Throws<InvalidOperationException>(() => loader.Next());

        Assert.Contains("disk on fire", error.Message);
    }

    sealed class FailingDataset : IImageDataset
    {
        public int Count => 4;
        public ImageShape Shape => new(3, 2, 2);
        public IReadOnlyList<string> ClassNames => [""];
        public int Read(int index, Span<float> pixels) => throw new IOException("disk on fire");
    }
}
