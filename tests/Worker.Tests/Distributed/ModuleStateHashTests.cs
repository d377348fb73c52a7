using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Distributed;

[Collection(TorchThreadsCollection.Name)]
public class ModuleStateHashTests
{
    static nn.Module<Tensor, Tensor> Model(int seed)
    {
        manual_seed(seed);
        return nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3));
    }

    [Fact]
    public void Compute_SameSeed_SameHash()
    {
        TorchRuntime.EnsureLoaded();
        Assert.Equal(ModuleStateHash.Compute(Model(3)), ModuleStateHash.Compute(Model(3)));
    }

    [Fact]
    public void Compute_OneElementChangedOrBufferChanged_DifferentHash()
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        var model = Model(3);
        var original = ModuleStateHash.Compute(model);

        // Act
        using (no_grad()) model.parameters().First().view(-1)[0].add_(1e-6f);
        var afterParameter = ModuleStateHash.Compute(model);
        using (no_grad()) model.buffers().First().add_(1f);
        var afterBuffer = ModuleStateHash.Compute(model);

        // Assert
        Assert.Matches("^[0-9a-f]{64}$", original);
        Assert.NotEqual(original, afterParameter);
        Assert.NotEqual(afterParameter, afterBuffer);
    }

    [Fact]
    public async Task VerifyIdenticalAcrossRanks_OneRankDiffers_EveryRankThrowsNamingIt()
    {
        // Arrange: ranks 0 and 1 load the same teacher, rank 2 another.
        TorchRuntime.EnsureLoaded();
        // The same hash for ranks 0 and 1 by construction: test classes run in parallel and share torch's global generator,
        // so two models built from one seed are not guaranteed equal.
        var shared = ModuleStateHash.Compute(Model(1));
        var hashes = new[] { shared, shared, ModuleStateHash.Compute(Model(2)) };
        using var group = new RingGroup(3);

        // Act
        var errors = await Task.WhenAll(group.RunEach(ring => Record.Exception(() => ModuleStateHash.VerifyIdenticalAcrossRanks(ring, hashes[ring.Rank], "teacher"))))
            .WaitAsync(TimeSpan.FromSeconds(60));

        // Assert
        Assert.All(errors, error => Assert.Contains("teacher differs from rank 0's on rank 2", Assert.IsType<ReplicaMismatchException>(error).Message));
    }

    [Fact]
    public async Task VerifyIdenticalAcrossRanks_AllSame_Passes()
    {
        TorchRuntime.EnsureLoaded();
        var hash = ModuleStateHash.Compute(Model(1));
        using var group = new RingGroup(2);

        var errors = await Task.WhenAll(group.RunEach(ring => Record.Exception(() => ModuleStateHash.VerifyIdenticalAcrossRanks(ring, hash, "teacher"))))
            .WaitAsync(TimeSpan.FromSeconds(60));

        Assert.All(errors, Assert.Null);
    }
}
