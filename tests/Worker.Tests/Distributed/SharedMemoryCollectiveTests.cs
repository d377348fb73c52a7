using System.Diagnostics;
using System.Text;
using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Distributed;

/// <summary>The same-host shared-memory collective (ranks as threads; the multi-process cases are in <see cref="WorkerProcessCollectiveTests"/>).</summary>
public class SharedMemoryCollectiveTests
{
    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 1_000_003)]
    [InlineData(3, 7)]
    [InlineData(4, 100_003)]
    public void AllReduceSum_Int64_IsExactSumOverRanks(int world, int size)
    {
        // Arrange: rank r holds r*1000003 + i*(r+1); 4 KiB pieces make the larger sizes run through hundreds of rounds.
        TorchRuntime.EnsureLoaded();
        using var group = new SharedMemoryGroup(world);
        static long Value(long rank, long i) => rank * 1_000_003 + i * (rank + 1);

        // Act
        var results = group.Run(rank =>
        {
            using var tensor = arange(size, dtype: ScalarType.Int64).mul(rank.Rank + 1).add(rank.Rank * 1_000_003L);
            rank.AllReduceSum(tensor);
            return tensor.data<long>().ToArray();
        });

        // Assert
        var expected = Enumerable.Range(0, size).Select(i => Enumerable.Range(0, world).Sum(r => Value(r, i))).ToArray();
        foreach (var result in results) Assert.Equal(expected, result);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void AllReduceSum_Float32Average_EqualsReferenceMeanAndIsIdenticalOnEveryRank(int world)
    {
        // Arrange: random values per rank; the reference is the float64 sum of all ranks' tensors.
        TorchRuntime.EnsureLoaded();
        const int size = 50_001;
        var inputs = Enumerable.Range(0, world).Select(r => randn(new long[] { size }, generator: new Generator((ulong)(r + 1)))).ToArray();
        var reference = stack(inputs).to_type(ScalarType.Float64).sum(0, keepdim: false);
        using var group = new SharedMemoryGroup(world);

        // Act: the gradient synchroniser's mean, sum then divide.
        var results = group.Run(rank =>
        {
            using var tensor = inputs[rank.Rank].clone();
            rank.AllReduceSum(tensor);
            tensor.div_(world);
            return tensor.data<float>().ToArray();
        });

        // Assert
        var expected = reference.div(world).to_type(ScalarType.Float32);
        foreach (var result in results)
        {
            Assert.Equal(results[0], result);
            using var actual = tensor(result);
            var difference = actual.sub(expected).abs().max().item<float>();
            Assert.Equal(size, result.Length);
            Assert.True(difference < 1e-5, $"the mean differs from the reference by up to {difference}");
        }
    }

    [Fact]
    public void Broadcast_FromRankOne_EveryRankHoldsItsTensor()
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        using var group = new SharedMemoryGroup(3);

        // Act: 10,007 doubles span 20 pieces of 4 KiB.
        var results = group.Run(rank =>
        {
            using var tensor = full(10_007, rank.Rank == 1 ? 2.5 : -1.0, dtype: ScalarType.Float64);
            rank.Broadcast(tensor, root: 1);
            rank.Barrier();
            return tensor.data<double>().ToArray();
        });

        // Assert
        Assert.All(results, result => Assert.All(result, value => Assert.Equal(2.5, value)));
    }

    [Fact]
    public async Task AllReduceSum_MismatchedSizes_ThrowsNamingBothCalls()
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        using var group = new SharedMemoryGroup(2);

        // Act
        var errors = await Task.WhenAll(group.RunEach(rank =>
        {
            using var tensor = zeros(rank.Rank == 0 ? 10 : 12);
            return Record.Exception(() => rank.AllReduceSum(tensor));
        })).WaitAsync(TimeSpan.FromSeconds(60));

        // Assert
        Assert.All(errors, error => Assert.IsType<CollectiveException>(error));
        Assert.Contains(errors, error => error!.Message.Contains("count 10") && error.Message.Contains("count 12"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AllReduceSum_PeerAbortsMidOperation_SurvivorsThrowNamingPeer(bool registered)
    {
        // Arrange: 3 ranks with a 30 s timeout; rank 2 never joins, and aborts while 0 and 1 wait inside an all-reduce
        // (copying, or in place on a tensor in the registered regions).
        TorchRuntime.EnsureLoaded();
        using var group = new SharedMemoryGroup(3, timeout: TimeSpan.FromSeconds(30), registeredBytes: registered ? 16 << 20 : 0);
        using var inside = new CountdownEvent(2);

        // Act
        var survivors = group.Ranks.Take(2).Select(rank => Task.Factory.StartNew(() =>
        {
            using var tensor = registered ? rank.TryAllocateRegistered(ScalarType.Float32, 4_000_000)! : ones(4_000_000);
            inside.Signal();
            return Record.Exception(() => rank.AllReduceSum(tensor));
        }, TaskCreationOptions.LongRunning)).ToArray();
        inside.Wait();
        Thread.Sleep(100);
        group.Ranks[2].Abort();
        var errors = await Task.WhenAll(survivors).WaitAsync(TimeSpan.FromSeconds(20));

        // Assert: both failed well before the timeout (WaitAsync would have thrown) and name rank 2.
        Assert.All(errors, error => Assert.Contains("rank 2 aborted", Assert.IsType<CollectiveException>(error).Message));
    }

    [Fact]
    public async Task AllReduceSum_PeerSilent_ThrowsTimeoutNamingIt()
    {
        // Arrange: rank 1 is attached but never joins.
        TorchRuntime.EnsureLoaded();
        using var group = new SharedMemoryGroup(2, timeout: TimeSpan.FromSeconds(1));

        // Act
        var error = await Task.Factory.StartNew(() =>
        {
            using var tensor = ones(1000);
            return Record.Exception(() => group.Ranks[0].AllReduceSum(tensor));
        }, TaskCreationOptions.LongRunning).WaitAsync(TimeSpan.FromSeconds(30));

        // Assert
        var collective = Assert.IsType<CollectiveException>(error);
        Assert.Contains("rank 1 did not arrive within the timeout", collective.Message);
    }

    [Fact]
    public async Task TryConnect_PeerOnAnotherHost_ReturnsNullSoTheTcpRingIsUsed()
    {
        // Arrange: rank 1 published a different host identity (another machine).
        var directory = Path.Combine(Path.GetTempPath(), $"sd-mixed-{Guid.NewGuid():N}");
        var rendezvous = new FileRendezvous(directory);
        await rendezvous.PutAsync("run/shm/host-1", Encoding.UTF8.GetBytes("another machine"), CancellationToken.None);

        try
        {
            // Act
            var collective = await SameHostDiscovery.TryConnectAsync(0, 2, rendezvous, "run", TimeSpan.FromSeconds(5));

            // Assert: no segment was created for this group.
            Assert.Null(collective);
            Assert.False(File.Exists(Path.Combine(directory, "run", "shm", "segment")));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Connect_StaleSegmentOfAnExitedProcess_IsRemovedAndTheGroupLeavesNoName()
    {
        // Arrange: a segment name left by a process that has exited.
        using var exited = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        exited.WaitForExit();
        var stale = Path.Combine(SharedMemorySegment.Directory, $"{SharedMemorySegment.NamePrefix}{exited.Id}-{Guid.NewGuid():N}");
        File.WriteAllBytes(stale, new byte[64]);

        // Act
        using var group = new SharedMemoryGroup(2);

        // Assert: the stale file is gone, and this group's own segment was unlinked once both ranks had mapped it.
        Assert.False(File.Exists(stale), $"{stale} was left behind");
        Assert.False(File.Exists(group.Ranks[0].SegmentPath), $"{group.Ranks[0].SegmentPath} was not unlinked");
    }
}
