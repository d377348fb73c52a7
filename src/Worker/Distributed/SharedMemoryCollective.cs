using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// Collectives between ranks on one machine through a shared-memory segment (<see cref="SharedMemorySegment"/>, laid out
/// as <see cref="SharedSegmentLayout"/>) instead of loopback TCP. An all-reduce goes piece by piece
/// (<see cref="DefaultPieceBytes"/>); each piece is split into W parts and rank r owns part r:
/// <list type="number">
/// <item>every rank copies the parts it does not own into its input slot; barrier;</item>
/// <item>rank r sums part r over all ranks (its own memory plus the other slots in rank order), in place, writing the
/// sum into the shared result in the same pass; barrier;</item>
/// <item>every rank copies the parts it does not own from the result.</item>
/// </list>
/// Per rank that is a copy in and a copy out of (W−1)/W of the buffer and one summing pass over 1/W of it; nothing passes
/// through the kernel as on a socket.
/// With registered memory (<see cref="IRegisteredBuffers"/>, <see cref="RegisteredBytes"/> per rank after the pieces)
/// a tensor that lies in the region skips both copies (<see cref="SharedRegisteredRegions"/>): after one barrier rank r
/// sums part r of every piece straight from all ranks' regions and writes the sum into each of them, then a second
/// barrier ends the operation. Every element is summed in the same order as on the copying path (the owner's value, then
/// the others in rank order), so both paths give bit-identical results.
/// Barriers are <see cref="SharedBarrier"/>s. Operations are called from one thread at a time; <see cref="Abort"/> may be
/// called from any thread.
/// </summary>
public sealed unsafe class SharedMemoryCollective : ICollective, IHostSum, IRegisteredBuffers
{
    public const int DefaultPieceBytes = 4 << 20;

    readonly SharedMemorySegment segment;
    readonly SharedSegmentLayout layout;
    readonly SharedBarrier barrier;
    readonly SharedRegisteredRegions registered;
    readonly int pieceBytes;
    readonly object unmapping = new();
    bool unmapped;
    long sequence;
    int disposed;

    SharedMemoryCollective(int rank, int worldSize, SharedMemorySegment segment, int pieceBytes, long registeredBytes, TimeSpan timeout)
    {
        (Rank, WorldSize, this.segment, this.pieceBytes) = (rank, worldSize, segment, pieceBytes);
        layout = new SharedSegmentLayout(segment.Pointer, worldSize, pieceBytes, registeredBytes);
        barrier = new SharedBarrier(layout, rank, worldSize, timeout);
        registered = new SharedRegisteredRegions(layout, rank, worldSize, pieceBytes, registeredBytes, UnmapWhenUnused);
        barrier.Attach();
    }

    public int Rank { get; }
    public int WorldSize { get; }

    /// <summary>Bytes of the segment for <paramref name="worldSize"/> ranks: the header, one input slot per rank, the result, and each rank's registered region.</summary>
    public static long SegmentBytes(int worldSize, int pieceBytes, long registeredBytes = 0) =>
        SharedSegmentLayout.SegmentBytes(worldSize, pieceBytes, registeredBytes);

    /// <summary>
    /// Rank 0's side: lays out a new segment (header written, every rank's slot empty). When /dev/shm has no room for the
    /// <paramref name="registeredBytes"/> regions the group gets none (<see cref="RegisteredBytes"/> is 0).
    /// </summary>
    internal static SharedMemoryCollective CreateFirst(int worldSize, int pieceBytes, long registeredBytes, TimeSpan timeout)
    {
        SharedMemorySegment segment;
        try
        {
            segment = SharedMemorySegment.Create(SegmentBytes(worldSize, pieceBytes, registeredBytes));
        }
        catch (IOException) when (registeredBytes > 0)
        {
            registeredBytes = 0;
            segment = SharedMemorySegment.Create(SegmentBytes(worldSize, pieceBytes));
        }
        SharedSegmentLayout.Initialise(segment.Pointer, worldSize, pieceBytes, registeredBytes);
        return new SharedMemoryCollective(0, worldSize, segment, pieceBytes, registeredBytes, timeout);
    }

    /// <summary>Rank r ≥ 1's side: maps the segment rank 0 created and checks its layout (the registered size is rank 0's).</summary>
    internal static SharedMemoryCollective Join(string path, int rank, int worldSize, int pieceBytes, TimeSpan timeout)
    {
        var segment = SharedMemorySegment.Open(path);
        if (SharedSegmentLayout.Read(segment.Pointer, segment.Bytes, worldSize, pieceBytes) is not { } registeredBytes)
        {
            segment.Dispose();
            throw new IOException($"{path} does not hold a collective segment for {worldSize} ranks with {pieceBytes}-byte pieces ({segment.Bytes} bytes)");
        }
        return new SharedMemoryCollective(rank, worldSize, segment, pieceBytes, registeredBytes, timeout);
    }

    /// <summary>Waits until every rank has mapped the segment (the first barrier); rank 0 then unlinks its name.</summary>
    internal void WaitForAllAttached()
    {
        barrier.Wait("attaching to the shared-memory segment");
        if (Rank == 0) segment.Unlink();
    }

    /// <summary>The segment's file name until every rank has attached (then it is unlinked).</summary>
    public string SegmentPath => segment.Path;

    internal void UnlinkSegment() => segment.Unlink();

    public long RegisteredBytes => registered.Capacity;

    public long RegisteredBytesFree => registered.Free;

    /// <summary>A registered tensor sums in place across the regions; any other tensor goes through the pieces.</summary>
    public void AllReduceSum(Tensor tensor)
    {
        if (TryGetRegisteredOffset(tensor, out _)) AllReduceSumRegistered(tensor);
        else HostSum.AllReduceSum(this, tensor, "shared-memory");
    }

    public Tensor? TryAllocateRegistered(ScalarType dtype, params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return registered.TryAllocate(dtype, shape, usable: Volatile.Read(ref disposed) == 0);
    }

    public bool TryGetRegisteredOffset(Tensor tensor, out long offset)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return registered.TryGetOffset(tensor, out offset);
    }

    public void AllReduceSumRegistered(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!TryGetRegisteredOffset(tensor, out var offset))
            throw new ArgumentException(RegisteredBytes == 0
                ? "this group has no registered memory (turned off, or /dev/shm had no room); use AllReduceSum, which copies"
                : $"tensor ({tensor.dtype}, {tensor.NumberOfElements} elements on {tensor.device}) does not lie in this rank's registered region; allocate it with {nameof(TryAllocateRegistered)}, or use AllReduceSum, which copies", nameof(tensor));
        var (_, bytes) = TensorMemory.Host(tensor, nameof(tensor));
        switch (tensor.dtype)
        {
            case ScalarType.Float32: AllReduceRegistered<float>(bytes / sizeof(float), offset); break;
            case ScalarType.Float64: AllReduceRegistered<double>(bytes / sizeof(double), offset); break;
            case ScalarType.Int64: AllReduceRegistered<long>(bytes / sizeof(long), offset); break;
            case ScalarType.Int32: AllReduceRegistered<int>(bytes / sizeof(int), offset); break;
            default: throw new ArgumentException($"tensor has dtype {tensor.dtype}; the shared-memory all-reduce sums Float32, Float64, Int64 or Int32", nameof(tensor));
        }
    }

    /// <summary>After the first barrier every rank's tensor is complete; each rank sums its parts in place; the second barrier ends it.</summary>
    void AllReduceRegistered<T>(long count, long offset) where T : unmanaged, IAdditionOperators<T, T, T>
    {
        var operation = Begin(OperationKind.AllReduce, $"{typeof(T).Name}, {count} elements, registered at byte {offset}", HostSum.ElementCode<T>(), count, 0, offset);
        if (WorldSize == 1) return;
        registered.SumOwnParts<T>(count, offset);
        barrier.Wait(operation);
    }

    /// <summary>The segment goes once the collective is disposed and no registered tensor of this rank is left.</summary>
    void UnmapWhenUnused()
    {
        lock (unmapping)
        {
            if (unmapped || Volatile.Read(ref disposed) == 0 || registered.Live > 0) return;
            unmapped = true;
            segment.Dispose();
        }
    }

    /// <summary>All-reduce (sum) of managed or native memory: the same algorithm as <see cref="AllReduceSum(Tensor)"/>.</summary>
    public void AllReduceSum<T>(Span<T> values) where T : unmanaged, IAdditionOperators<T, T, T>
    {
        fixed (T* pointer = values)
            ((IHostSum)this).AllReduceSum<T>((nint)pointer, values.Length);
    }

    public void Broadcast(Tensor tensor, int root)
    {
        var (pointer, bytes) = TensorMemory.Host(tensor, nameof(tensor));
        Broadcast((byte*)pointer, bytes, root, $"{tensor.dtype}, {tensor.NumberOfElements} elements");
    }

    public void Barrier()
    {
        var operation = Begin(OperationKind.Barrier, "barrier", 0, 0, 0, OperationDescriptor.Unregistered);
        barrier.Wait(operation);
    }

    public void Abort()
    {
        barrier.MarkBroken($"rank {Rank} aborted the collective");
        if (Volatile.Read(ref disposed) != 0) return;
        barrier.Abort();
    }

    /// <summary>Leaves the group; the segment stays mapped until the last registered tensor of this rank is freed.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        barrier.Leave();
        UnmapWhenUnused();
    }

    void IHostSum.AllReduceSum<T>(nint data, long count)
    {
        var operation = Begin(OperationKind.AllReduce, $"{typeof(T).Name}, {count} elements", HostSum.ElementCode<T>(), count, 0, OperationDescriptor.Unregistered);
        if (WorldSize == 1) return;
        var elements = (T*)data;
        var perPiece = pieceBytes / sizeof(T);
        var world = WorldSize;
        for (long done = 0; done < count || done == 0; done += perPiece)
        {
            var piece = Math.Min(perPiece, count - done);
            var values = elements + done;
            long Start(int part) => part * piece / world;
            long Length(int part) => Start(part + 1) - Start(part);
            // 1. Publish the parts the other ranks own.
            for (var part = 0; part < world; part++)
                if (part != Rank) Copy(values + Start(part), (T*)layout.Input(Rank) + Start(part), Length(part));
            barrier.Wait(operation);
            // 2. Sum the own part over every rank and publish it; the last addition also writes the shared result.
            var own = values + Start(Rank);
            var length = Length(Rank);
            for (var other = 0; other < world; other++)
            {
                if (other == Rank) continue;
                var last = other == world - 1 || (other == world - 2 && Rank == world - 1);
                if (last) ElementwiseSum.AddIntoAndCopy(own, (T*)layout.Input(other) + Start(Rank), (T*)layout.Result + Start(Rank), length);
                else ElementwiseSum.AddInto(own, (T*)layout.Input(other) + Start(Rank), length);
            }
            barrier.Wait(operation);
            // 3. Collect the parts the other ranks summed.
            for (var part = 0; part < world; part++)
                if (part != Rank) Copy((T*)layout.Result + Start(part), values + Start(part), Length(part));
            if (piece <= 0) break;
        }
    }

    void Broadcast(byte* data, long bytes, int root, string what)
    {
        if ((uint)root >= (uint)WorldSize)
            throw new ArgumentOutOfRangeException(nameof(root), root, $"the broadcast root must be a rank in 0..{WorldSize - 1}");
        var operation = Begin(OperationKind.Broadcast, $"{what}, root {root}", 0, bytes, root, OperationDescriptor.Unregistered);
        if (WorldSize == 1) return;
        for (long done = 0; done < bytes || done == 0; done += pieceBytes)
        {
            var piece = Math.Min(pieceBytes, bytes - done);
            if (Rank == root) Copy(data + done, layout.Result, piece);
            barrier.Wait(operation);
            if (Rank != root) Copy(layout.Result, data + done, piece);
            barrier.Wait(operation);
            if (piece <= 0) break;
        }
    }

    internal static void Copy<T>(T* source, T* target, long count) where T : unmanaged
    {
        if (count > 0) Buffer.MemoryCopy(source, target, count * sizeof(T), count * sizeof(T));
    }

    enum OperationKind { AllReduce = 1, Broadcast = 2, Barrier = 3 }

    /// <summary>
    /// Publishes this rank's operation, waits for every rank, and checks they all called the same one (for a registered
    /// all-reduce: on a tensor at the same offset of the region; <see cref="OperationDescriptor.Unregistered"/> otherwise).
    /// </summary>
    string Begin(OperationKind kind, string what, int elementKind, long count, int root, long registeredOffset)
    {
        var number = ++sequence;
        var operation = $"{Name(kind)} #{number} ({what}) on rank {Rank}";
        if (barrier.BrokenBecause is { } reason)
            throw new CollectiveException($"{operation}: the collective cannot be used: {reason}");
        if (WorldSize == 1) return operation;
        var mine = &layout.Slot(Rank)->Operation;
        *mine = new OperationDescriptor
        {
            Kind = (int)kind, Number = number, ElementKind = elementKind, Count = count, Root = root, RegisteredOffset = registeredOffset,
        };
        barrier.Wait(operation);
        // Every rank's descriptor stays put until the operation's next barrier, which each operation has.
        for (var other = 0; other < WorldSize; other++)
        {
            var theirs = &layout.Slot(other)->Operation;
            if (other == Rank || theirs->SameOperation(*mine)) continue;
            throw barrier.Break(new CollectiveException(theirs->SameCall(*mine)
                ? $"{operation}: rank {other} all-reduces {theirs->Placement()} while this rank all-reduces {mine->Placement()}; a registered tensor must lie at the same offset of the region on every rank (allocate and dispose registered tensors in the same order everywhere)"
                : $"{operation}: rank {other} called {theirs->Describe(KindName)} while this rank called {mine->Describe(KindName)}; every rank must issue the same collectives in the same order"));
        }
        return operation;
    }

    static string Name(OperationKind kind) => kind switch { OperationKind.AllReduce => "all-reduce", OperationKind.Broadcast => "broadcast", _ => "barrier" };

    static string KindName(int kind) => ((OperationKind)kind).ToString();
}
