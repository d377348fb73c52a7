using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Distributed;

/// <summary>The node map and the hierarchical all-reduce (ranks as threads, nodes named; the namespaced processes are in the end-to-end tests).</summary>
public class HierarchicalCollectiveTests
{
    [Fact]
    public void FromIdentities_InterleavedNodes_NumbersNodesByLowestRankWithLowestRankAsLeader()
    {
        var topology = NodeTopology.FromIdentities(["x", "y", "x", "z", "y"]);

        Assert.Equal(3, topology.NodeCount);
        Assert.Equal([0, 1, 0, 2, 1], Enumerable.Range(0, 5).Select(topology.NodeOf));
        Assert.Equal([0, 0, 1, 0, 1], Enumerable.Range(0, 5).Select(topology.LocalRank));
        Assert.Equal([0, 1, 3], Enumerable.Range(0, 3).Select(topology.LeaderOf));
        Assert.True(topology.IsHierarchical);
    }

    [Theory]
    [InlineData("a,b,c", typeof(TcpRingCollective))]
    [InlineData("a,a,a", typeof(SharedMemoryCollective))]
    [InlineData("a,a,b,b", typeof(HierarchicalCollective))]
    public void ConnectCpu_NodeLayout_ChoosesTheBackendForIt(string layout, Type expected)
    {
        TorchRuntime.EnsureLoaded();
        using var group = new HierarchicalGroup(layout.Split(','));

        Assert.All(group.Ranks, rank => Assert.IsType(expected, rank));
    }

    [Theory]
    [InlineData("a,a,b,b", 1_000_003)]
    [InlineData("a,b,a,b", 7)]
    [InlineData("a,a,a,b", 100_003)]
    [InlineData("a,a,b,b,c,c", 4099)]
    public void AllReduceSum_Int64OverNodes_IsExactSumOnEveryRank(string layout, int size)
    {
        // Arrange: rank r holds r*1000003 + i*(r+1).
        TorchRuntime.EnsureLoaded();
        var nodes = layout.Split(',');
        using var group = new HierarchicalGroup(nodes);
        static long Value(long rank, long i) => rank * 1_000_003 + i * (rank + 1);

        // Act
        var results = group.Run(rank =>
        {
            using var tensor = arange(size, dtype: ScalarType.Int64).mul(rank.Rank + 1).add(rank.Rank * 1_000_003L);
            rank.AllReduceSum(tensor);
            return tensor.data<long>().ToArray();
        });

        // Assert
        var expected = Enumerable.Range(0, size).Select(i => Enumerable.Range(0, nodes.Length).Sum(r => Value(r, i))).ToArray();
        Assert.All(group.Ranks, rank => Assert.IsType<HierarchicalCollective>(rank));
        foreach (var result in results) Assert.Equal(expected, result);
    }

    [Fact]
    public void AllReduceSum_Float32TwoNodesOfTwo_SameBitsOnEveryRankWithinTheSummationBound()
    {
        // Arrange: random values per rank; the reference is the float64 sum, the bound (W−1)·ε·Σ|x| per element.
        TorchRuntime.EnsureLoaded();
        const int size = 50_001, world = 4;
        var inputs = Enumerable.Range(0, world).Select(r => randn(new long[] { size }, generator: new Generator((ulong)(r + 11)))).ToArray();
        var stacked = stack(inputs).to_type(ScalarType.Float64);
        var reference = stacked.sum(0, keepdim: false);
        var bound = stacked.abs().sum(0, keepdim: false).mul((world - 1) * Math.Pow(2, -24));
        using var group = new HierarchicalGroup(["a", "a", "b", "b"]);

        // Act
        var results = group.Run(rank =>
        {
            using var tensor = inputs[rank.Rank].clone();
            rank.AllReduceSum(tensor);
            return tensor.data<float>().ToArray();
        });

        // Assert
        foreach (var result in results) Assert.Equal(results[0], result);
        using var error = tensor(results[0]).to_type(ScalarType.Float64).sub(reference).abs();
        var worst = error.sub(bound).max().item<double>();
        Assert.True(worst <= 0, $"an element is {worst} beyond the bound (W−1)·ε·Σ|x|");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(4)]
    public void Broadcast_AnyRoot_EveryRankHoldsTheRootsValues(int root)
    {
        TorchRuntime.EnsureLoaded();
        using var group = new HierarchicalGroup(["a", "a", "b", "b", "b"]);

        var results = group.Run(rank =>
        {
            using var tensor = full(1000, rank.Rank * 10 + 1, dtype: ScalarType.Int32);
            rank.Broadcast(tensor, root);
            rank.Barrier();
            return tensor.data<int>().ToArray();
        });

        foreach (var result in results) Assert.All(result, value => Assert.Equal(root * 10 + 1, value));
    }

    [Fact]
    public async Task AllReduceSum_LeaderOfSecondNodeAborts_EveryOtherRankThrowsNamingTheHierarchy()
    {
        // Arrange: a 30 s timeout; rank 2 (node b's leader) aborts while the others wait inside an all-reduce.
        TorchRuntime.EnsureLoaded();
        using var group = new HierarchicalGroup(["a", "a", "b", "b"], timeout: TimeSpan.FromSeconds(30));
        using var inside = new CountdownEvent(3);

        // Act
        var survivors = new[] { 0, 1, 3 }.Select(index => Task.Factory.StartNew(() =>
        {
            using var tensor = ones(2_000_000);
            inside.Signal();
            return Record.Exception(() => group.Ranks[index].AllReduceSum(tensor));
        }, TaskCreationOptions.LongRunning)).ToArray();
        inside.Wait();
        Thread.Sleep(100);
        group.Ranks[2].Abort();
        var errors = await Task.WhenAll(survivors).WaitAsync(TimeSpan.FromSeconds(20));

        // Assert: all failed well before the timeout (WaitAsync would have thrown), as a hierarchical all-reduce.
        Assert.All(errors, error => Assert.StartsWith("hierarchical all-reduce on rank", Assert.IsType<CollectiveException>(error).Message));
    }
}
