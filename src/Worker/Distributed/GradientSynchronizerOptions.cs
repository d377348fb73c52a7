namespace SpectralDiffusion.Worker.Distributed;

/// <summary>Whether <see cref="GradientSynchronizer"/> all-reduces bucket k on a background thread while bucket k+1 is flattened.</summary>
public enum GradientOverlap
{
    /// <summary>Measure both ways on the first steps and keep the faster (<see cref="OverlapTrial"/>).</summary>
    Auto,
    Off,
    On,
}

/// <summary>How <see cref="GradientSynchronizer"/> groups and overlaps its all-reduces.</summary>
public sealed record GradientSynchronizerOptions
{
    public const long DefaultBucketBytes = 25L << 20;

    /// <summary>Gradients are concatenated into buckets of about this many bytes, one all-reduce each (PyTorch DDP's bucket_cap_mb is 25).</summary>
    public long BucketBytes { get; init; } = DefaultBucketBytes;

    /// <summary>All-reduce bucket k on a background thread while bucket k+1 is flattened and bucket k−1 copied back; or choose by measuring.</summary>
    public GradientOverlap Overlap { get; init; } = GradientOverlap.Auto;

    /// <summary><see cref="GradientOverlap.Auto"/>: synchronisations run before the trial starts (first-call costs, caches).</summary>
    public int OverlapWarmupSteps { get; init; } = 2;

    /// <summary><see cref="GradientOverlap.Auto"/>: synchronisations timed with overlap off, and as many with it on.</summary>
    public int OverlapTrialSteps { get; init; } = 4;

    public GradientSynchronizerOptions Validated()
    {
        if (BucketBytes < 1024)
            throw new ArgumentOutOfRangeException(nameof(BucketBytes), BucketBytes, "the gradient bucket size must be at least 1024 bytes");
        if (OverlapWarmupSteps < 0)
            throw new ArgumentOutOfRangeException(nameof(OverlapWarmupSteps), OverlapWarmupSteps, "the overlap warm-up must be 0 steps or more");
        if (OverlapTrialSteps < 1)
            throw new ArgumentOutOfRangeException(nameof(OverlapTrialSteps), OverlapTrialSteps, "the overlap trial needs at least 1 step each way");
        return this;
    }
}
