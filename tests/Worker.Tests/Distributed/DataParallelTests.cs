using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Distributed;

public class DataParallelTests
{
    const int HalfBatch = 4;
    const int Steps = 3;

    static Sequential Model(int seed, ScalarType dtype)
    {
        manual_seed(seed);
        var model = nn.Sequential(
            nn.Conv2d(2, 4, 3, padding: 1), nn.SiLU(), nn.Conv2d(4, 4, 3, stride: 2, padding: 1), nn.SiLU(),
            nn.Flatten(), nn.Linear(4 * 4 * 4, 3));
        model.to(dtype);
        return model;
    }

    static optim.Optimizer Optimizer(string name, Sequential model) => name switch
    {
        "sgd" => optim.SGD(model.parameters(), 0.1, momentum: 0.9),
        _ => optim.AdamW(model.parameters(), 0.01, weight_decay: 0.01),
    };

    /// <summary>k optimiser steps on <paramref name="inputs"/>, with the gradients optionally averaged over ranks before each step.</summary>
    static void Train(Sequential model, optim.Optimizer optimizer, Tensor inputs, Tensor targets, GradientSynchronizer? synchronizer)
    {
        for (var step = 0; step < Steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(model.forward(inputs), targets);
            loss.backward();
            synchronizer?.SynchronizeGradients(model.parameters());
            optimizer.step();
        }
    }

    [Theory]
    [InlineData("sgd", ScalarType.Float32, false)]
    [InlineData("adamw", ScalarType.Float64, false)]
    [InlineData("adamw", ScalarType.Float64, true)]
    public void SynchronizeGradients_TwoRanksHalfBatch_MatchOneRankFullBatch(string optimizerName, ScalarType dtype, bool overlap)
    {
        using var group = new RingGroup(2);
        AssertTwoRanksHalfBatchMatchOneRankFullBatch(group, optimizerName, dtype, overlap);
    }

    [Theory]
    [InlineData("sgd", ScalarType.Float32, false)]
    [InlineData("adamw", ScalarType.Float64, true)]
    public void SynchronizeGradients_SharedMemoryTwoRanksHalfBatch_MatchOneRankFullBatch(string optimizerName, ScalarType dtype, bool overlap)
    {
        using var group = new SharedMemoryGroup(2);
        AssertTwoRanksHalfBatchMatchOneRankFullBatch(group, optimizerName, dtype, overlap);
    }

    [Theory]
    [InlineData("sgd", ScalarType.Float32, false, 0)]
    [InlineData("adamw", ScalarType.Float64, true, 0)]
    [InlineData("adamw", ScalarType.Float64, false, 2048)]
    public void SynchronizeGradients_SharedMemoryRegisteredBucketsTwoRanksHalfBatch_MatchOneRankFullBatch(string optimizerName, ScalarType dtype, bool overlap, int occupiedBytes)
    {
        // Arrange: 4 KiB regions; with 2 KiB of them taken before training, the middle float64 bucket (1568 bytes) no
        // longer fits behind the first (1760 bytes) and goes the copying way, while the small last one still fits.
        using var group = new SharedMemoryGroup(2, registeredBytes: 4096);
        var occupied = new Tensor?[2];
        var layouts = new (int Registered, int Buckets)[2];

        // Act + Assert
        AssertTwoRanksHalfBatchMatchOneRankFullBatch(group, optimizerName, dtype, overlap,
            beforeTraining: rank => occupied[rank.Rank] = occupiedBytes > 0 ? rank.TryAllocateRegistered(ScalarType.Float32, occupiedBytes / 4) : null,
            afterTraining: (rank, synchronizer) => layouts[rank] = (synchronizer.RegisteredLayout!.RegisteredCount, synchronizer.RegisteredLayout.Count));

        // Assert: where the buckets went.
        foreach (var (registered, buckets) in layouts)
        {
            Assert.True(buckets >= 2, $"{buckets} buckets");
            if (occupiedBytes == 0) Assert.Equal(buckets, registered);
            else Assert.InRange(registered, 1, buckets - 1);
        }
        foreach (var tensor in occupied) tensor?.Dispose();
    }

    [Theory]
    [InlineData(2, 1 << 20)]
    [InlineData(3, 1 << 20)]
    [InlineData(3, 4096)]
    public void SynchronizeGradients_RegisteredBuckets_GiveTheCopyingPathsGradientsBitForBit(int world, int registeredBytes)
    {
        // Arrange: two groups of the same ranks, one without registered memory; each rank's gradients come from its own batch.
        TorchRuntime.EnsureLoaded();
        using var copying = new SharedMemoryGroup(world);
        using var registered = new SharedMemoryGroup(world, registeredBytes: registeredBytes);
        var options = new GradientSynchronizerOptions { BucketBytes = 1024 };

        // Act: the same gradients synchronised through each group.
        var results = copying.Run(copyingRank =>
        {
            var rank = copyingRank.Rank;
            var model = Model(seed: 1, ScalarType.Float32);
            var generator = new Generator((ulong)(rank + 31));
            var loss = model.forward(randn(new long[] { HalfBatch, 2, 8, 8 }, generator: generator)).pow(2).mean();
            loss.backward();
            var parameters = model.parameters().ToList();
            var local = parameters.Select(p => p.grad!.clone()).ToList();
            new GradientSynchronizer(copyingRank, options).SynchronizeGradients(parameters);
            var viaCopies = parameters.Select(p => p.grad!.bytes.ToArray()).ToList();
            using var no = no_grad();
            foreach (var (parameter, gradient) in parameters.Zip(local)) parameter.grad!.copy_(gradient);
            using var synchronizer = new GradientSynchronizer(registered.Ranks[rank], options);
            synchronizer.SynchronizeGradients(parameters);
            var viaRegions = parameters.Select(p => p.grad!.bytes.ToArray()).ToList();
            return (ViaCopies: viaCopies, ViaRegions: viaRegions, Local: local.Select(g => g.bytes.ToArray()).ToList(), synchronizer.RegisteredLayout!.RegisteredCount);
        });

        // Assert: bit-identical on both paths and every rank, the mean of different gradients, and at least one registered bucket.
        foreach (var result in results)
        {
            Assert.Equal(result.ViaCopies, result.ViaRegions);
            Assert.Equal(results[0].ViaRegions, result.ViaRegions);
            Assert.True(result.RegisteredCount > 0);
        }
        Assert.NotEqual(results[0].Local, results[1].Local);
        Assert.NotEqual(results[0].Local, results[0].ViaRegions);
    }

    static void AssertTwoRanksHalfBatchMatchOneRankFullBatch<T>(CollectiveGroup<T> group, string optimizerName, ScalarType dtype, bool overlap,
        Action<T>? beforeTraining = null, Action<int, GradientSynchronizer>? afterTraining = null) where T : ICollective
    {
        // Arrange: rank 1 starts from other weights (the broadcast must fix that); buckets of 1 KiB force several all-reduces.
        TorchRuntime.EnsureLoaded();
        manual_seed(11);
        var inputs = randn(2 * HalfBatch, 2, 8, 8, dtype: dtype);
        var targets = randn(2 * HalfBatch, 3, dtype: dtype);
        var reference = Model(seed: 1, dtype);
        var initial = reference.parameters().Select(p => p.detach().clone()).ToList();
        var replicas = new[] { Model(seed: 1, dtype), Model(seed: 2, dtype) };
        // Other test classes run in parallel and share torch's global generator: copy rank 0's start explicitly.
        replicas[0].load_state_dict(reference.state_dict());
        var options = new GradientSynchronizerOptions { BucketBytes = 1024, Overlap = overlap ? GradientOverlap.On : GradientOverlap.Off };

        // Act
        Train(reference, Optimizer(optimizerName, reference), inputs, targets, synchronizer: null);
        group.Run(ring =>
        {
            var model = replicas[ring.Rank];
            beforeTraining?.Invoke(ring);
            var synchronizer = new GradientSynchronizer(ring, options);
            synchronizer.BroadcastParameters(model);
            Train(model, Optimizer(optimizerName, model), inputs.narrow(0, ring.Rank * HalfBatch, HalfBatch), targets.narrow(0, ring.Rank * HalfBatch, HalfBatch), synchronizer);
            afterTraining?.Invoke(ring.Rank, synchronizer);
            return 0;
        });

        // Assert: both replicas equal the full-batch model, which did move away from its start.
        var expected = reference.parameters().ToList();
        foreach (var replica in replicas)
            foreach (var (actual, wanted) in replica.parameters().Zip(expected))
                Assert.True(actual.allclose(wanted, rtol: 0, atol: 1e-5), $"max |Δ| = {(actual - wanted).abs().max().to_type(ScalarType.Float64).item<double>()}");
        Assert.True(expected.Zip(initial).Any(pair => pair.First.sub(pair.Second).abs().max().to_type(ScalarType.Float64).item<double>() > 1e-3), "training must change the parameters");
    }

    [Fact]
    public void SynchronizeGradients_GradientsSmallerThanOneBucket_AllReduceAsOneBucket()
    {
        // Arrange: three tensors of 840 floats in all, far under the default 25 MB bucket.
        TorchRuntime.EnsureLoaded();
        using var group = new SharedMemoryGroup(2, registeredBytes: 1 << 20);

        // Act
        var bucketCounts = group.Run(rank =>
        {
            var parameters = new[] { 300L, 40, 500 }.Select(n => new Parameter(ones(n))).ToList();
            stack(parameters.Select(p => p.sum()).ToList()).sum().backward();
            using var synchronizer = new GradientSynchronizer(rank, new GradientSynchronizerOptions { Overlap = GradientOverlap.Off });
            synchronizer.SynchronizeGradients(parameters);
            return synchronizer.RegisteredLayout!.Count;
        });

        // Assert: one all-reduce for all three, not one per tensor.
        Assert.All(bucketCounts, count => Assert.Equal(1, count));
    }

    [Fact]
    public void SynchronizeGradients_ParameterUnusedOnOneRank_GetsTheMeanWithZero()
    {
        // Arrange: a two-parameter "model"; rank 1's backward never reaches b.
        TorchRuntime.EnsureLoaded();
        using var group = new RingGroup(2);

        // Act
        var gradients = group.Run(ring =>
        {
            var a = new Parameter(ones(3));
            var b = new Parameter(ones(2));
            var loss = ring.Rank == 0 ? a.sum() * 2 + b.sum() * 4 : a.sum() * 4;
            loss.backward();
            new GradientSynchronizer(ring).SynchronizeGradients([a, b]);
            return (A: a.grad!.data<float>().ToArray(), B: b.grad!.data<float>().ToArray());
        });

        // Assert: mean over ranks, (2+4)/2 for a and (4+0)/2 for b, on both ranks.
        Assert.All(gradients, g => Assert.Equal([3f, 3f, 3f], g.A));
        Assert.All(gradients, g => Assert.Equal([2f, 2f], g.B));
    }

    [Fact]
    public void BroadcastParameters_DifferentInitialisations_AllRanksHoldRankZerosStateIncludingBuffers()
    {
        // Arrange: BatchNorm carries running-stat buffers besides parameters.
        TorchRuntime.EnsureLoaded();
        var models = Enumerable.Range(0, 3).Select(rank =>
        {
            manual_seed(rank + 5);
            var model = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4));
            using (no_grad()) model.forward(randn(8, 5));
            return model;
        }).ToArray();
        var rankZero = ModuleStateHash.Compute(models[0]);
        using var group = new RingGroup(3);

        // Act
        group.Run(ring =>
        {
            new GradientSynchronizer(ring).BroadcastParameters(models[ring.Rank]);
            return 0;
        });

        // Assert
        Assert.All(models, model => Assert.Equal(rankZero, ModuleStateHash.Compute(model)));
    }
}
