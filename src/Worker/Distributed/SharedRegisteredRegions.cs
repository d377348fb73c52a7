using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// The registered-memory path of a <see cref="SharedMemoryCollective"/>: every rank's region of the segment, the tensors
/// handed out in this rank's, and the in-place sum of one all-reduce between its barriers. Rank r sums part r of each piece
/// (split as on the copying path) straight from all ranks' regions, its own value first and the others in rank order, and
/// writes the sum into each region; only rank r reads or writes part r anywhere, so the ranks never touch the same bytes.
/// </summary>
sealed unsafe class SharedRegisteredRegions(SharedSegmentLayout layout, int rank, int worldSize, int pieceBytes, long registeredBytes, Action released)
{
    /// <summary>The registered sum goes chunk by chunk, so each chunk of the own region stays in cache while every other region is added.</summary>
    const int ChunkBytes = 32 << 10;

    readonly RegisteredRegion region = new(registeredBytes);

    public long Capacity => region.Capacity;
    public long Free => region.Free;

    /// <summary>Registered tensors of this rank still alive.</summary>
    public int Live => region.Live;

    /// <summary>A zero-filled tensor in this rank's region; null when the region has no room or <paramref name="usable"/> is false (see <see cref="IRegisteredBuffers.TryAllocateRegistered"/>).</summary>
    public Tensor? TryAllocate(ScalarType dtype, long[] shape, bool usable)
    {
        var elementBytes = dtype switch
        {
            ScalarType.Float32 or ScalarType.Int32 => 4,
            ScalarType.Float64 or ScalarType.Int64 => 8,
            _ => throw new ArgumentException($"registered tensors hold Float32, Float64, Int64 or Int32 (the types the all-reduce sums), not {dtype}", nameof(dtype)),
        };
        if (shape.Any(size => size < 0))
            throw new ArgumentException($"shape [{string.Join(", ", shape)}] has a negative size", nameof(shape));
        var bytes = shape.Aggregate(1L, (product, size) => checked(product * size)) * elementBytes;
        if (Capacity == 0 || !usable || region.TryReserve(bytes) is not { } offset) return null;
        var data = layout.Region(rank) + offset;
        NativeMemory.Clear(data, (nuint)bytes);
        try
        {
            return RegisteredMemory.Wrap((nint)data, shape, dtype, () => Release(offset));
        }
        catch
        {
            region.Release(offset);
            throw;
        }
    }

    /// <summary>The byte offset of <paramref name="tensor"/> in this rank's region; false when it is not in the region.</summary>
    public bool TryGetOffset(Tensor tensor, out long offset)
    {
        offset = OperationDescriptor.Unregistered;
        if (Capacity == 0 || tensor.device_type != DeviceType.CPU || !tensor.is_contiguous() || tensor.NumberOfElements == 0) return false;
        var (pointer, bytes) = TensorMemory.Host(tensor, nameof(tensor));
        var start = (byte*)pointer - layout.Region(rank);
        if (start < 0 || start >= Capacity) return false;
        if (start + bytes > Capacity)
            throw new ArgumentException($"tensor starts in this rank's registered region (at byte {start}) but its {bytes} bytes run past the region's end ({Capacity})", nameof(tensor));
        offset = start;
        return true;
    }

    /// <summary>This rank's part of a registered all-reduce of <paramref name="count"/> elements at <paramref name="offset"/>, once every rank's tensor is complete.</summary>
    public void SumOwnParts<T>(long count, long offset) where T : unmanaged, IAdditionOperators<T, T, T>
    {
        var regions = stackalloc T*[worldSize];
        for (var other = 0; other < worldSize; other++) regions[other] = (T*)(layout.Region(other) + offset);
        var perPiece = pieceBytes / sizeof(T);
        var perChunk = ChunkBytes / sizeof(T);
        for (long done = 0; done < count; done += perPiece)
        {
            var piece = Math.Min(perPiece, count - done);
            long first = done + rank * piece / worldSize, end = done + (rank + 1) * piece / worldSize;
            for (var at = first; at < end; at += perChunk)
                SumAcrossRegions(regions, at, Math.Min(perChunk, end - at));
        }
    }

    /// <summary>regions[rank] += every other region in rank order, then the sum into every other region; one cache-sized chunk.</summary>
    void SumAcrossRegions<T>(T** regions, long at, long length) where T : unmanaged, IAdditionOperators<T, T, T>
    {
        var own = regions[rank] + at;
        var last = rank == worldSize - 1 ? worldSize - 2 : worldSize - 1;
        for (var other = 0; other < worldSize; other++)
            if (other != rank && other != last) ElementwiseSum.AddInto(own, regions[other] + at, length);
        ElementwiseSum.AddIntoAndCopy(own, regions[last] + at, regions[last] + at, length);
        for (var other = 0; other < worldSize; other++)
            if (other != rank && other != last) SharedMemoryCollective.Copy(own, regions[other] + at, length);
    }

    /// <summary>A registered tensor's storage was freed: its range is free again.</summary>
    void Release(long offset)
    {
        region.Release(offset);
        released();
    }
}
