namespace SpectralDiffusion.Worker.Data;

/// <summary>Where a sampler stands: the epoch and how many global batches of it were handed out. Serialisable for resume.</summary>
public readonly record struct SamplerState(int Epoch, int Position);

/// <summary>
/// Seeded data-parallel batch sampler. Every rank computes the same permutation of the dataset per epoch from (seed, epoch);
/// global batch k is permutation[k·W·B, (k+1)·W·B) and rank r takes its contiguous slice [r·B, (r+1)·B).
/// So W ranks with batch B together see exactly the samples that 1 rank with batch W·B sees. The incomplete last global
/// batch of an epoch is dropped.
/// </summary>
public sealed class ShardedBatchSampler
{
    readonly int datasetSize, seed;
    int[] permutation;

    public ShardedBatchSampler(int datasetSize, int batchSize, int seed, int worldSize = 1, int rank = 0, SamplerState state = default)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be at least 1");
        if (worldSize < 1) throw new ArgumentOutOfRangeException(nameof(worldSize), worldSize, "world size must be at least 1");
        if (rank < 0 || rank >= worldSize) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"rank must be in [0, {worldSize})");
        if (datasetSize < batchSize * worldSize)
            throw new ArgumentOutOfRangeException(nameof(datasetSize), datasetSize,
                $"the dataset has {datasetSize} items, fewer than one global batch of {worldSize} ranks × {batchSize}");
        this.datasetSize = datasetSize;
        this.seed = seed;
        BatchSize = batchSize;
        WorldSize = worldSize;
        Rank = rank;
        BatchesPerEpoch = datasetSize / (batchSize * worldSize);
        if (state.Epoch < 0 || state.Position < 0 || state.Position > BatchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(state), state, $"a sampler state needs epoch ≥ 0 and position in [0, {BatchesPerEpoch}]");
        State = state;
        permutation = Permutation(datasetSize, seed, state.Epoch);
    }

    public int BatchSize { get; }
    public int WorldSize { get; }
    public int Rank { get; }
    public int BatchesPerEpoch { get; }

    /// <summary>The state after the batches handed out so far; restoring it continues with the next batch.</summary>
    public SamplerState State { get; private set; }

    /// <summary>This rank's indices of the next global batch; moves to the next epoch (a new permutation) when one ends.</summary>
    public int[] Next()
    {
        if (State.Position == BatchesPerEpoch)
        {
            State = new SamplerState(State.Epoch + 1, 0);
            permutation = Permutation(datasetSize, seed, State.Epoch);
        }
        var start = (State.Position * WorldSize + Rank) * BatchSize;
        State = State with { Position = State.Position + 1 };
        return permutation[start..(start + BatchSize)];
    }

    /// <summary>The epoch's permutation of [0, n): Fisher–Yates driven by a generator seeded from (seed, epoch).</summary>
    public static int[] Permutation(int n, int seed, int epoch)
    {
        var random = SeedMixer.Random(seed, epoch);
        var order = Enumerable.Range(0, n).ToArray();
        for (var i = n - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
