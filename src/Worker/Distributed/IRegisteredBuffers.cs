using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// A collective whose ranks share memory: every rank owns a region of <see cref="RegisteredBytes"/> that all ranks of the
/// group have mapped, and hands out tensors whose elements live there. A tensor in the region is all-reduced in place
/// with no staging copies: rank r sums part r straight from every rank's region and writes the sum into all of them.
/// The tensor must lie at the same offset in every rank's region, which holds when every rank allocates (and disposes)
/// the same registered tensors in the same order; the all-reduce checks it and fails with a
/// <see cref="CollectiveException"/> otherwise. <see cref="ICollective.AllReduceSum"/> takes this path by itself for a
/// registered tensor and copies any other.
/// </summary>
public interface IRegisteredBuffers
{
    /// <summary>The size of this rank's region; 0 when the group has none (turned off, or /dev/shm had no room for it).</summary>
    long RegisteredBytes { get; }

    /// <summary>Bytes of this rank's region that no live registered tensor holds (fragments included).</summary>
    long RegisteredBytesFree { get; }

    /// <summary>
    /// A zero-filled, contiguous CPU tensor in this rank's region (Float32, Float64, Int64 or Int32, the types the all-reduce
    /// sums), outside any dispose scope; null when the region has no room left. Its range returns to the region when
    /// libtorch frees its storage (the tensor and every view of it disposed). Use it only while the collective is alive.
    /// </summary>
    Tensor? TryAllocateRegistered(ScalarType dtype, params long[] shape);

    /// <summary>The byte offset of <paramref name="tensor"/>'s first element in this rank's region; false when it is not in the region.</summary>
    bool TryGetRegisteredOffset(Tensor tensor, out long offset);

    /// <summary>
    /// The in-place all-reduce (sum) of a tensor in this rank's region, at the same offset on every rank; an
    /// <see cref="ArgumentException"/> for a tensor outside the region (nothing is exchanged then).
    /// </summary>
    void AllReduceSumRegistered(Tensor tensor);
}
