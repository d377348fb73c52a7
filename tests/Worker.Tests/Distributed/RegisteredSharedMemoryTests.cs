using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Distributed;

/// <summary>
/// The shared-memory collective's registered regions and their in-place all-reduce (ranks as threads; an aborting peer
/// is in <see cref="SharedMemoryCollectiveTests"/>, the multi-process cases in <see cref="WorkerProcessCollectiveTests"/>,
/// gradient buckets in <see cref="DataParallelTests"/>).
/// </summary>
public class RegisteredSharedMemoryTests
{
    const long RegionBytes = 1 << 20;

    [Theory]
    [InlineData(2, 1_000)]
    [InlineData(3, 100_003)]
    [InlineData(4, 50_001)]
    public void AllReduceSum_RegisteredFloat32_IsBitIdenticalToTheCopyingPathOnEveryRank(int world, int size)
    {
        // Arrange: random values per rank; 4 KiB pieces make the larger sizes span a hundred pieces.
        TorchRuntime.EnsureLoaded();
        var inputs = Enumerable.Range(0, world).Select(r => randn(new long[] { size }, generator: new Generator((ulong)(r + 7)))).ToArray();
        var reference = stack(inputs).to_type(ScalarType.Float64).sum(0, keepdim: false).to_type(ScalarType.Float32);
        using var group = new SharedMemoryGroup(world, registeredBytes: RegionBytes);

        // Act: the same values through the copying path and, in registered memory, through the in-place one.
        var results = group.Run(rank =>
        {
            using var copied = inputs[rank.Rank].clone();
            rank.AllReduceSum(copied);
            using var registered = rank.TryAllocateRegistered(ScalarType.Float32, size) ?? throw new InvalidOperationException("no registered memory");
            registered.copy_(inputs[rank.Rank]);
            var inRegion = rank.TryGetRegisteredOffset(registered, out _);
            rank.AllReduceSum(registered);
            return (InRegion: inRegion, Copied: copied.bytes.ToArray(), Registered: registered.bytes.ToArray(), Values: registered.data<float>().ToArray());
        });

        // Assert: the same bits on both paths and on every rank, and the sum it should be.
        foreach (var result in results)
        {
            Assert.True(result.InRegion);
            Assert.Equal(result.Copied, result.Registered);
            Assert.Equal(results[0].Registered, result.Registered);
        }
        using var actual = tensor(results[0].Values);
        var difference = actual.sub(reference).abs().max().item<float>();
        Assert.True(difference < 1e-4, $"the registered sum differs from the float64 reference by up to {difference}");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void AllReduceSumRegistered_Int64AfterAnotherTensor_IsExactOnEveryRankAndLeavesTheOtherAlone(int world)
    {
        // Arrange: every rank allocates a small tensor first, so the summed one lies at a non-zero offset.
        TorchRuntime.EnsureLoaded();
        const int size = 30_011;
        using var group = new SharedMemoryGroup(world, registeredBytes: RegionBytes);

        // Act
        var results = group.Run(rank =>
        {
            using var first = rank.TryAllocateRegistered(ScalarType.Int32, 17)!;
            first.fill_(rank.Rank + 100);
            using var values = rank.TryAllocateRegistered(ScalarType.Int64, size)!;
            values.copy_(arange(size, dtype: ScalarType.Int64).mul(rank.Rank + 1).add(rank.Rank * 1_000_003L));
            rank.TryGetRegisteredOffset(values, out var offset);
            rank.AllReduceSumRegistered(values);
            return (Offset: offset, Sum: values.data<long>().ToArray(), First: first.data<int>().ToArray());
        });

        // Assert
        var expected = Enumerable.Range(0, size).Select(i => Enumerable.Range(0, world).Sum(r => r * 1_000_003L + (long)i * (r + 1))).ToArray();
        for (var rank = 0; rank < world; rank++)
        {
            Assert.True(results[rank].Offset > 0, $"rank {rank}: offset {results[rank].Offset}");
            Assert.Equal(expected, results[rank].Sum);
            Assert.All(results[rank].First, value => Assert.Equal(rank + 100, value));
        }
    }

    [Fact]
    public void AllReduceSumRegistered_OrdinaryTensor_ThrowsNamingTheRegionAndTheGroupStaysUsable()
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        using var group = new SharedMemoryGroup(2, registeredBytes: RegionBytes);

        // Act: every rank passes a tensor of its own heap, then all-reduces it the ordinary way.
        var results = group.Run(rank =>
        {
            using var ordinary = full(100, rank.Rank + 1.0f);
            var error = Record.Exception(() => rank.AllReduceSumRegistered(ordinary));
            rank.AllReduceSum(ordinary);
            return (Error: error, Sum: ordinary.data<float>().ToArray());
        });

        // Assert: a clear local error (nothing was exchanged), and the next all-reduce still works.
        foreach (var (error, sum) in results)
        {
            Assert.Contains("does not lie in this rank's registered region", Assert.IsType<ArgumentException>(error).Message);
            Assert.All(sum, value => Assert.Equal(3f, value));
        }
    }

    [Fact]
    public void TryAllocateRegistered_GroupWithoutRegions_ReturnsNullAndTheRegisteredAllReduceSaysWhy()
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        using var group = new SharedMemoryGroup(2, registeredBytes: 0);
        var rank = group.Ranks[0];
        using var ordinary = ones(10);

        // Act
        var allocated = rank.TryAllocateRegistered(ScalarType.Float32, 10);
        var error = Record.Exception(() => rank.AllReduceSumRegistered(ordinary));

        // Assert
        Assert.Equal(0, rank.RegisteredBytes);
        Assert.Null(allocated);
        Assert.Contains("no registered memory", Assert.IsType<ArgumentException>(error).Message);
    }

    [Theory]
    [InlineData(true, "a registered tensor at byte offset 64 of its region")]
    [InlineData(false, "a tensor outside the registered region")]
    public async Task AllReduceSum_RanksDisagreeOnPlacement_BothThrowNamingIt(bool rankZeroAllocatesMore, string rankZeroPlacement)
    {
        // Arrange: rank 0 either allocates an extra 64-byte tensor first (its tensor lands at offset 64, rank 1's at 0)
        // or all-reduces an ordinary tensor while rank 1 all-reduces a registered one.
        TorchRuntime.EnsureLoaded();
        using var group = new SharedMemoryGroup(2, registeredBytes: RegionBytes);

        // Act
        var errors = await Task.WhenAll(group.RunEach(rank =>
        {
            using var extra = rank.Rank == 0 && rankZeroAllocatesMore ? rank.TryAllocateRegistered(ScalarType.Float32, 16) : null;
            using var values = rank.Rank == 0 && !rankZeroAllocatesMore ? zeros(1000) : rank.TryAllocateRegistered(ScalarType.Float32, 1000)!;
            return Record.Exception(() => rank.AllReduceSum(values));
        })).WaitAsync(TimeSpan.FromSeconds(60));

        // Assert: both ranks fail (the one that sees the mismatch first aborts the other), and a message names both placements.
        Assert.All(errors, error => Assert.IsType<CollectiveException>(error));
        Assert.Contains(errors, error => error!.Message.Contains(rankZeroPlacement) && error.Message.Contains("a registered tensor at byte offset 0 of its region")
                                         && error.Message.Contains("must lie at the same offset"));
    }

    [Fact]
    public void TryAllocateRegistered_RegionExhausted_ReturnsNullUntilATensorIsFreed()
    {
        // Arrange: a 64 KiB region.
        TorchRuntime.EnsureLoaded();
        using var group = new SharedMemoryGroup(2, registeredBytes: 64 << 10);
        var rank = group.Ranks[0];

        // Act
        var first = rank.TryAllocateRegistered(ScalarType.Float64, 4096)!; // 32 KiB
        using var second = rank.TryAllocateRegistered(ScalarType.Float32, 6000)!; // 24000 bytes, rounded to 24 KiB
        var tooLarge = rank.TryAllocateRegistered(ScalarType.Float32, 4096); // 16 KiB: only 8 KiB are left
        rank.TryGetRegisteredOffset(first, out var firstOffset);
        first.Dispose();
        using var again = rank.TryAllocateRegistered(ScalarType.Float32, 4096);

        // Assert: the freed range is handed out again, from the start.
        Assert.Null(tooLarge);
        Assert.NotNull(again);
        Assert.True(rank.TryGetRegisteredOffset(again, out var againOffset));
        Assert.Equal(firstOffset, againOffset);
        Assert.Equal((64 << 10) - 16384 - 24000, rank.RegisteredBytesFree);
    }

    [Fact]
    public void RegisteredBucketLayout_Buckets_LieInOrderAtTheSameOffsetsOnEveryRankAndTheLargeOneFallsBack()
    {
        // Arrange: a 64 KiB region; one bucket is too large for it and one has a type the all-reduce does not sum.
        TorchRuntime.EnsureLoaded();
        using var group = new SharedMemoryGroup(2, registeredBytes: 64 << 10);
        RegisteredBucketLayout.BucketShape[] shapes =
        [
            new(ScalarType.Float32, 1000, DeviceType.CPU),
            new(ScalarType.Float64, 300, DeviceType.CPU),
            new(ScalarType.Float32, 100_000, DeviceType.CPU),
            new(ScalarType.Float16, 10, DeviceType.CPU),
            new(ScalarType.Int64, 8, DeviceType.CPU),
        ];

        // Act
        var layouts = group.Run(rank =>
        {
            using var layout = RegisteredBucketLayout.Allocate(rank, shapes);
            var placed = Enumerable.Range(0, layout.Count).Select(i => layout[i] is { } flat && rank.TryGetRegisteredOffset(flat, out var offset)
                ? (offset, flat.dtype, flat.NumberOfElements) : ((long, ScalarType, long)?)null).ToArray();
            var (registeredCount, freeWhileHeld) = (layout.RegisteredCount, rank.RegisteredBytesFree);
            layout.Dispose();
            return (Placed: placed, RegisteredCount: registeredCount, FreeWhileHeld: freeWhileHeld, FreeAfter: rank.RegisteredBytesFree);
        });

        // Assert: buckets 0, 1 and 4 follow one another (64-byte aligned) from the region's start; 2 and 3 go the copying way.
        static long Aligned(long bytes) => (bytes + 63) / 64 * 64;
        var expected = new (long, ScalarType, long)?[]
        {
            (0, ScalarType.Float32, 1000), (Aligned(4000), ScalarType.Float64, 300), null, null, (Aligned(4000) + Aligned(2400), ScalarType.Int64, 8),
        };
        foreach (var layout in layouts)
        {
            Assert.Equal(expected, layout.Placed);
            Assert.Equal(3, layout.RegisteredCount);
            Assert.Equal((64 << 10) - Aligned(4000) - Aligned(2400) - Aligned(64), layout.FreeWhileHeld);
            Assert.Equal(64 << 10, layout.FreeAfter);
        }
    }

    [Fact]
    public void Dispose_RegisteredTensorStillAlive_KeepsItsMemoryReadableUntilItIsFreed()
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        using var group = new SharedMemoryGroup(2, registeredBytes: RegionBytes);
        var rank = group.Ranks[1];
        using var values = rank.TryAllocateRegistered(ScalarType.Float64, 1000)!;
        values.copy_(arange(1000, dtype: ScalarType.Float64));

        // Act: the collective goes first; the tensor is read afterwards.
        rank.Dispose();
        var sum = values.sum().item<double>();

        // Assert
        Assert.Equal(999 * 1000 / 2.0, sum);
        Assert.Null(rank.TryAllocateRegistered(ScalarType.Float64, 10));
    }
}
