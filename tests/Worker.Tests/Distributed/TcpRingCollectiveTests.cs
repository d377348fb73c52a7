using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Distributed;

public class TcpRingCollectiveTests
{
    public static TheoryData<int, int> WorldsAndSizes()
    {
        var data = new TheoryData<int, int>();
        foreach (var world in new[] { 1, 2, 3, 4 })
            foreach (var size in new[] { 1, 7, 1000 })
                data.Add(world, size);
        return data;
    }

    [Theory]
    [MemberData(nameof(WorldsAndSizes))]
    public void AllReduceSum_Int64_IsExactSumOverRanks(int world, int size)
    {
        // Arrange: rank r holds r*1000003 + i*(r+1), distinct per rank and element.
        TorchRuntime.EnsureLoaded();
        using var group = new RingGroup(world);
        static long Value(long rank, long i) => rank * 1_000_003 + i * (rank + 1);

        // Act
        var results = group.Run(ring =>
        {
            using var tensor = arange(size, dtype: ScalarType.Int64).mul(ring.Rank + 1).add(ring.Rank * 1_000_003L);
            ring.AllReduceSum(tensor);
            return tensor.data<long>().ToArray();
        });

        // Assert
        var expected = Enumerable.Range(0, size).Select(i => Enumerable.Range(0, world).Sum(r => Value(r, i))).ToArray();
        foreach (var result in results) Assert.Equal(expected, result);
    }

    [Theory]
    [InlineData(2, 1_000_003)]
    [InlineData(3, 1_000_003)]
    [InlineData(4, 7)]
    public void AllReduceSum_Float32SmallIntegers_IsExact(int world, int size)
    {
        // Arrange: small integers are exact in float32, so the sum must be exact whatever the order.
        TorchRuntime.EnsureLoaded();
        using var group = new RingGroup(world);

        // Act
        var results = group.Run(ring =>
        {
            using var tensor = arange(size, dtype: ScalarType.Int64).remainder(1000).add(ring.Rank).to_type(ScalarType.Float32);
            ring.AllReduceSum(tensor);
            return tensor.data<float>().ToArray();
        });

        // Assert
        var expected = Enumerable.Range(0, size).Select(i => (float)(world * (i % 1000) + world * (world - 1) / 2)).ToArray();
        foreach (var result in results) Assert.Equal(expected, result);
    }

    [Fact]
    public void AllReduceSum_Float64SliceWithStorageOffset_ReducesOnlyTheSlice()
    {
        // Arrange: a contiguous slice starts at a storage offset; the elements around it must stay untouched.
        TorchRuntime.EnsureLoaded();
        using var group = new RingGroup(2);

        // Act
        var results = group.Run(ring =>
        {
            using var whole = full(10, ring.Rank + 1.0, dtype: ScalarType.Float64);
            using var slice = whole.narrow(0, 3, 5);
            ring.AllReduceSum(slice);
            return whole.data<double>().ToArray();
        });

        // Assert
        Assert.Equal([1, 1, 1, 3, 3, 3, 3, 3, 1, 1], results[0]);
        Assert.Equal([2, 2, 2, 3, 3, 3, 3, 3, 2, 2], results[1]);
    }

    [Theory]
    [InlineData(3, 0, 1)]
    [InlineData(3, 2, 5000)]
    [InlineData(4, 1, 700_001)]
    public void Broadcast_FromRoot_EveryRankHoldsRootsValues(int world, int root, int size)
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        using var group = new RingGroup(world);

        // Act: each rank starts with different values; afterwards all hold the root's.
        var results = group.Run(ring =>
        {
            using var tensor = arange(size, dtype: ScalarType.Float32).add(ring.Rank * 0.5f);
            ring.Broadcast(tensor, root);
            return tensor.data<float>().ToArray();
        });

        // Assert
        var expected = Enumerable.Range(0, size).Select(i => i + root * 0.5f).ToArray();
        foreach (var result in results) Assert.Equal(expected, result);
    }

    [Fact]
    public void Operations_ManyInSequence_StayInStep()
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        using var group = new RingGroup(3);

        // Act: interleave barriers, broadcasts and reductions of changing sizes.
        var results = group.Run(ring =>
        {
            long total = 0;
            for (var i = 1; i <= 20; i++)
            {
                ring.Barrier();
                using var value = full(i, (long)ring.Rank, dtype: ScalarType.Int64);
                ring.Broadcast(value, i % 3);
                ring.AllReduceSum(value);
                total += value.sum().item<long>();
            }
            return total;
        });

        // Assert: after broadcast every rank holds root=i%3, the sum is 3*(i%3) per element.
        var expected = Enumerable.Range(1, 20).Sum(i => (long)i * 3 * (i % 3));
        Assert.All(results, total => Assert.Equal(expected, total));
    }

    [Fact]
    public async Task AllReduceSum_MismatchedSizes_ThrowsNamingBothCalls()
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        using var group = new RingGroup(2);

        // Act
        var attempts = group.RunEach(ring =>
        {
            using var tensor = zeros(ring.Rank == 0 ? 10 : 12);
            return Record.Exception(() => ring.AllReduceSum(tensor));
        });
        var errors = await Task.WhenAll(attempts).WaitAsync(TimeSpan.FromSeconds(60));

        // Assert
        Assert.All(errors, error => Assert.IsType<CollectiveException>(error));
        Assert.Contains(errors, error => error!.Message.Contains("count 10") && error.Message.Contains("count 12"));
    }

    [Fact]
    public async Task AllReduceSum_PeerAbortsMidOperation_SurvivorsThrowNamingPeer()
    {
        // Arrange: 3 ranks; rank 2 resets its sockets while ranks 0 and 1 are inside an all-reduce.
        TorchRuntime.EnsureLoaded();
        using var group = new RingGroup(3, timeout: TimeSpan.FromSeconds(30));
        using var inside = new CountdownEvent(2);

        // Act
        var survivors = group.Ranks.Take(2).Select(ring => Task.Factory.StartNew(() =>
        {
            using var tensor = ones(4_000_000);
            inside.Signal();
            return Record.Exception(() => ring.AllReduceSum(tensor));
        }, TaskCreationOptions.LongRunning)).ToArray();
        inside.Wait();
        Thread.Sleep(100);
        group.Ranks[2].Abort();
        var errors = await Task.WhenAll(survivors).WaitAsync(TimeSpan.FromSeconds(60));

        // Assert: both survivors raised (well before the 30 s timeout, or WaitAsync would have thrown first) and one names rank 2.
        Assert.All(errors, error => Assert.IsType<CollectiveException>(error));
        Assert.Contains(errors, error => error!.Message.Contains("rank 2"));
        Assert.All(errors, error => Assert.Contains("all-reduce #1", error!.Message));
    }

    [Fact]
    public async Task AllReduceSum_PeerSilent_ThrowsTimeoutWithinLimit()
    {
        // Arrange: rank 1 stays connected but never joins the all-reduce.
        TorchRuntime.EnsureLoaded();
        using var group = new RingGroup(2, timeout: TimeSpan.FromSeconds(1));

        // Act
        var error = await Task.Factory.StartNew(() =>
        {
            using var tensor = ones(1000);
            return Record.Exception(() => group.Ranks[0].AllReduceSum(tensor));
        }, TaskCreationOptions.LongRunning).WaitAsync(TimeSpan.FromSeconds(30));

        // Assert
        var collective = Assert.IsType<CollectiveException>(error);
        Assert.Contains("rank 1", collective.Message);
        Assert.Contains("timeout", collective.Message);
    }

    [Fact]
    public void AllReduceSum_AfterFailure_RefusesWithFirstReason()
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        using var group = new RingGroup(2, timeout: TimeSpan.FromSeconds(1));
        using var tensor = ones(10);
        group.Ranks[1].Abort();
        Assert.Throws<CollectiveException>(() => group.Ranks[0].AllReduceSum(tensor));

        // Act
        var again = Assert.Throws<CollectiveException>(() => group.Ranks[0].AllReduceSum(tensor));

        // Assert
        Assert.Contains("cannot be used", again.Message);
    }

    [Fact]
    public void AllReduceSum_CudaTensorOrUnsupportedDtype_ThrowsNamingTheProblem()
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        using var group = new RingGroup(1);
        using var halves = ones(4, dtype: ScalarType.Float16);
        using var strided = ones(4, 4).t();

        // Act
        var dtypeError = Assert.Throws<ArgumentException>(() => group.Ranks[0].AllReduceSum(halves));
        var layoutError = Assert.Throws<ArgumentException>(() => group.Ranks[0].AllReduceSum(strided));

        // Assert
        Assert.Contains("Float16", dtypeError.Message);
        Assert.Contains("contiguous", layoutError.Message);
    }
}
