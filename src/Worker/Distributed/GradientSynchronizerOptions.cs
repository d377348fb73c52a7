namespace SpectralDiffusion.Worker.Distributed;

/// <summary>How <see cref="GradientSynchronizer"/> groups and overlaps its all-reduces.</summary>
public sealed record GradientSynchronizerOptions
{
    public const long DefaultBucketBytes = 25L << 20;

    /// <summary>Gradients are concatenated into buckets of about this many bytes, one all-reduce each (PyTorch DDP's bucket_cap_mb is 25).</summary>
    public long BucketBytes { get; init; } = DefaultBucketBytes;

    /// <summary>All-reduce bucket k on a background thread while bucket k+1 is flattened and bucket k−1 copied back.</summary>
    public bool OverlapBuckets { get; init; }

    public GradientSynchronizerOptions Validated()
    {
        if (BucketBytes < 1024)
            throw new ArgumentOutOfRangeException(nameof(BucketBytes), BucketBytes, "the gradient bucket size must be at least 1024 bytes");
        return this;
    }
}
