using SpectralDiffusion.Worker.Data;

namespace SpectralDiffusion.Worker.Tests.Data;

public class ShardedBatchSamplerTests
{
    [Fact]
    public void Next_ThreeRanks_UnionOfSlicesEqualsSingleRankGlobalBatch()
    {
        // Arrange
        const int size = 50, batch = 4, world = 3, seed = 11;
        var single = new ShardedBatchSampler(size, batch * world, seed);
        var ranks = Enumerable.Range(0, world).Select(r => new ShardedBatchSampler(size, batch, seed, world, r)).ToArray();

        // Act + Assert: across an epoch boundary (4 global batches per epoch).
        for (var step = 0; step < 10; step++)
        {
            var expected = single.Next();
            var concatenated = ranks.SelectMany(r => r.Next()).ToArray();
            Assert.Equal(expected, concatenated);
        }
        Assert.Equal(new SamplerState(2, 2), single.State);
    }

    [Fact]
    public void Next_AfterRestoringState_ContinuesIdentically()
    {
        var sampler = new ShardedBatchSampler(20, 3, seed: 4);
        for (var i = 0; i < 7; i++) sampler.Next();
        var saved = sampler.State;
        var expected = Enumerable.Range(0, 5).Select(_ => sampler.Next()).ToArray();

        var resumed = new ShardedBatchSampler(20, 3, seed: 4, state: saved);
        var actual = Enumerable.Range(0, 5).Select(_ => resumed.Next()).ToArray();

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Permutation_DifferentEpochs_DifferButCoverAllItems()
    {
        var epoch0 = ShardedBatchSampler.Permutation(100, 1, 0);
        var epoch1 = ShardedBatchSampler.Permutation(100, 1, 1);

        Assert.NotEqual(epoch0, epoch1);
        Assert.Equal(Enumerable.Range(0, 100), epoch0.Order());
    }

    [Fact]
    public void Constructor_DatasetSmallerThanGlobalBatch_ThrowsNamingDatasetSize()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ShardedBatchSampler(10, 4, 0, worldSize: 3));
        Assert.Equal("datasetSize", error.ParamName);
    }
}
