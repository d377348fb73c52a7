namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// Which byte ranges of one rank's registered region hold live tensors. Ranges are <see cref="Alignment"/>-byte aligned
/// and handed out first fit from the start, so ranks that reserve and release the same sizes in the same order get the
/// same offsets, which the registered all-reduce requires. Thread-safe: libtorch releases from whichever thread frees a
/// tensor's storage.
/// </summary>
sealed class RegisteredRegion(long capacity)
{
    public const int Alignment = 64;
    readonly SortedList<long, long> taken = [];

    public long Capacity { get; } = capacity;

    /// <summary>How many ranges are reserved and not yet released.</summary>
    public int Live
    {
        get { lock (taken) return taken.Count; }
    }

    public long Free
    {
        get { lock (taken) return Capacity - taken.Values.Sum(); }
    }

    /// <summary>The offset of a new range of at least <paramref name="bytes"/> (one byte for an empty tensor), or null when none is free.</summary>
    public long? TryReserve(long bytes)
    {
        var length = (Math.Max(bytes, 1) + Alignment - 1) / Alignment * Alignment;
        lock (taken)
        {
            long start = 0;
            foreach (var (offset, size) in taken)
            {
                if (offset - start >= length) break;
                start = offset + size;
            }
            if (Capacity - start < length) return null;
            taken.Add(start, length);
            return start;
        }
    }

    public void Release(long offset)
    {
        lock (taken) taken.Remove(offset);
    }
}
