using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// Collectives between ranks on one machine through a shared-memory segment (<see cref="SharedMemorySegment"/>)
/// instead of loopback TCP. An all-reduce goes piece by piece (<see cref="DefaultPieceBytes"/>); each piece is split
/// into W parts and rank r owns part r:
/// <list type="number">
/// <item>every rank copies the parts it does not own into its input slot; barrier;</item>
/// <item>rank r sums part r over all ranks (its own memory plus the other slots in rank order), in place, writing the
/// sum into the shared result in the same pass; barrier;</item>
/// <item>every rank copies the parts it does not own from the result.</item>
/// </list>
/// Per rank that is a copy in and a copy out of (W−1)/W of the buffer and one summing pass over 1/W of it; nothing passes
/// through the kernel as on a socket.
/// With registered memory (<see cref="IRegisteredBuffers"/>, <see cref="RegisteredBytes"/> per rank after the pieces)
/// a tensor that lies in the region skips both copies: after one barrier rank r sums part r of every piece straight
/// from all ranks' regions and writes the sum into each of them, then a second barrier ends the operation. Every
/// element is summed in the same order as on the copying path (the owner's value, then the others in rank order), so
/// both paths give bit-identical results.
/// Barriers are arrival counters in the segment's header; a waiting rank spins briefly and then sleeps on a futex, so
/// it leaves the core to the ranks still computing. A waiting rank fails with a <see cref="CollectiveException"/> when
/// a peer aborts, leaves, or its process exits, and after the timeout otherwise.
/// Operations are called from one thread at a time; <see cref="Abort"/> may be called from any thread.
/// </summary>
public sealed unsafe class SharedMemoryCollective : ICollective, IHostSum, IRegisteredBuffers
{
    public const int DefaultPieceBytes = 4 << 20;
    const long Magic = 0x3230_4D48_5344_5053; // "SPDSHM02"
    const int HeaderBytes = 4096;
    const int RankSlotBytes = 128;
    const int FirstRankSlot = 256;
    const int DescriptorBytes = 40;
    const long Unregistered = -1;
    const int RegisteredChunkBytes = 32 << 10;
    static readonly TimeSpan LivenessCheckEvery = TimeSpan.FromMilliseconds(50);

    readonly SharedMemorySegment segment;
    readonly TimeSpan timeout;
    readonly int pieceBytes;
    readonly RegisteredRegion region;
    readonly object unmapping = new();
    bool unmapped;
    long arrivals;
    long sequence;
    volatile string? brokenBecause;
    int disposed;

    SharedMemoryCollective(int rank, int worldSize, SharedMemorySegment segment, int pieceBytes, long registeredBytes, TimeSpan timeout)
    {
        (Rank, WorldSize, this.segment, this.pieceBytes, this.timeout) = (rank, worldSize, segment, pieceBytes, timeout);
        region = new RegisteredRegion(registeredBytes);
    }

    public int Rank { get; }
    public int WorldSize { get; }

    /// <summary>Bytes of the segment for <paramref name="worldSize"/> ranks: the header, one input slot per rank, the result, and each rank's registered region.</summary>
    public static long SegmentBytes(int worldSize, int pieceBytes, long registeredBytes = 0) =>
        RegionsStart(worldSize, pieceBytes) + worldSize * registeredBytes;

    /// <summary>The regions start on a page after the result.</summary>
    static long RegionsStart(int worldSize, int pieceBytes) => (HeaderBytes + (long)(worldSize + 1) * pieceBytes + 4095) / 4096 * 4096;

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
        *(long*)segment.Pointer = Magic;
        *(int*)(segment.Pointer + 8) = worldSize;
        *(int*)(segment.Pointer + 12) = pieceBytes;
        *(long*)(segment.Pointer + 16) = registeredBytes;
        var collective = new SharedMemoryCollective(0, worldSize, segment, pieceBytes, registeredBytes, timeout);
        collective.Attach();
        return collective;
    }

    /// <summary>Rank r ≥ 1's side: maps the segment rank 0 created and checks its layout (the registered size is rank 0's).</summary>
    internal static SharedMemoryCollective Join(string path, int rank, int worldSize, int pieceBytes, TimeSpan timeout)
    {
        var segment = SharedMemorySegment.Open(path);
        var registeredBytes = segment.Bytes >= 24 ? *(long*)(segment.Pointer + 16) : -1;
        if (segment.Bytes < HeaderBytes || *(long*)segment.Pointer != Magic || *(int*)(segment.Pointer + 8) != worldSize || *(int*)(segment.Pointer + 12) != pieceBytes
            || registeredBytes < 0 || segment.Bytes != SegmentBytes(worldSize, pieceBytes, registeredBytes))
        {
            segment.Dispose();
            throw new IOException($"{path} does not hold a collective segment for {worldSize} ranks with {pieceBytes}-byte pieces ({segment.Bytes} bytes)");
        }
        var collective = new SharedMemoryCollective(rank, worldSize, segment, pieceBytes, registeredBytes, timeout);
        collective.Attach();
        return collective;
    }

    /// <summary>Waits until every rank has mapped the segment (the first barrier); rank 0 then unlinks its name.</summary>
    internal void WaitForAllAttached()
    {
        Synchronize("attaching to the shared-memory segment");
        if (Rank == 0) segment.Unlink();
    }

    /// <summary>The segment's file name until every rank has attached (then it is unlinked).</summary>
    public string SegmentPath => segment.Path;

    internal void UnlinkSegment() => segment.Unlink();

    void Attach()
    {
        *Pid(Rank) = Environment.ProcessId;
        *State(Rank) = 0;
    }

    // Header layout: magic, world, piece bytes, registered bytes per rank; at 64 the abort word (aborting rank + 1); at 128
    // the futex word bumped on every arrival; from 256 one 128-byte slot per rank: arrivals (long), pid, state (1 = left),
    // the operation descriptor (kind, number, element kind, count, root, registered offset).
    int* AbortWord => (int*)(segment.Pointer + 64);
    int* WakeWord => (int*)(segment.Pointer + 128);
    byte* RankSlot(int rank) => segment.Pointer + FirstRankSlot + rank * RankSlotBytes;
    long* Arrivals(int rank) => (long*)RankSlot(rank);
    int* Pid(int rank) => (int*)(RankSlot(rank) + 8);
    int* State(int rank) => (int*)(RankSlot(rank) + 12);
    byte* Descriptor(int rank) => RankSlot(rank) + 16;
    byte* Input(int rank) => segment.Pointer + HeaderBytes + (long)rank * pieceBytes;
    byte* Result => segment.Pointer + HeaderBytes + (long)WorldSize * pieceBytes;
    byte* Region(int rank) => segment.Pointer + RegionsStart(WorldSize, pieceBytes) + rank * RegisteredBytes;

    public long RegisteredBytes => region.Capacity;

    public long RegisteredBytesFree => region.Free;

    /// <summary>A registered tensor sums in place across the regions; any other tensor goes through the pieces.</summary>
    public void AllReduceSum(Tensor tensor)
    {
        if (TryGetRegisteredOffset(tensor, out _)) AllReduceSumRegistered(tensor);
        else HostSum.AllReduceSum(this, tensor, "shared-memory");
    }

    public Tensor? TryAllocateRegistered(ScalarType dtype, params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var elementBytes = dtype switch
        {
            ScalarType.Float32 or ScalarType.Int32 => 4,
            ScalarType.Float64 or ScalarType.Int64 => 8,
            _ => throw new ArgumentException($"registered tensors hold Float32, Float64, Int64 or Int32 (the types the all-reduce sums), not {dtype}", nameof(dtype)),
        };
        if (shape.Any(size => size < 0))
            throw new ArgumentException($"shape [{string.Join(", ", shape)}] has a negative size", nameof(shape));
        var bytes = shape.Aggregate(1L, (product, size) => checked(product * size)) * elementBytes;
        if (RegisteredBytes == 0 || Volatile.Read(ref disposed) != 0 || region.TryReserve(bytes) is not { } offset) return null;
        var data = Region(Rank) + offset;
        NativeMemory.Clear(data, (nuint)bytes);
        try
        {
            return RegisteredMemory.Wrap((nint)data, shape, dtype, () => ReleaseRegistered(offset));
        }
        catch
        {
            region.Release(offset);
            throw;
        }
    }

    public bool TryGetRegisteredOffset(Tensor tensor, out long offset)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        offset = Unregistered;
        if (RegisteredBytes == 0 || tensor.device_type != DeviceType.CPU || !tensor.is_contiguous() || tensor.NumberOfElements == 0) return false;
        var (pointer, bytes) = TensorMemory.Host(tensor, nameof(tensor));
        var start = (byte*)pointer - Region(Rank);
        if (start < 0 || start >= RegisteredBytes) return false;
        if (start + bytes > RegisteredBytes)
            throw new ArgumentException($"tensor starts in this rank's registered region (at byte {start}) but its {bytes} bytes run past the region's end ({RegisteredBytes})", nameof(tensor));
        offset = start;
        return true;
    }

    public void AllReduceSumRegistered(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!TryGetRegisteredOffset(tensor, out var offset))
            throw new ArgumentException(RegisteredBytes == 0
                ? "this group has no registered memory (turned off, or /dev/shm had no room); use AllReduceSum, which copies"
                : $"tensor ({tensor.dtype}, {tensor.NumberOfElements} elements on {tensor.device}) does not lie in this rank's registered region; allocate it with {nameof(TryAllocateRegistered)}, or use AllReduceSum, which copies", nameof(tensor));
        var (pointer, bytes) = TensorMemory.Host(tensor, nameof(tensor));
        switch (tensor.dtype)
        {
            case ScalarType.Float32: AllReduceRegistered((float*)pointer, bytes / sizeof(float), offset); break;
            case ScalarType.Float64: AllReduceRegistered((double*)pointer, bytes / sizeof(double), offset); break;
            case ScalarType.Int64: AllReduceRegistered((long*)pointer, bytes / sizeof(long), offset); break;
            case ScalarType.Int32: AllReduceRegistered((int*)pointer, bytes / sizeof(int), offset); break;
            default: throw new ArgumentException($"tensor has dtype {tensor.dtype}; the shared-memory all-reduce sums Float32, Float64, Int64 or Int32", nameof(tensor));
        }
    }

    /// <summary>
    /// After the first barrier every rank's tensor is complete; rank r sums part r of each piece (split as on the copying
    /// path) over the regions, its own value first, and stores the sum in every region; the second barrier ends it.
    /// Only rank r reads or writes part r anywhere, so the ranks never touch the same bytes.
    /// </summary>
    void AllReduceRegistered<T>(T* data, long count, long offset) where T : unmanaged, IAdditionOperators<T, T, T>
    {
        var operation = Begin(OperationKind.AllReduce, $"{typeof(T).Name}, {count} elements, registered at byte {offset}", HostSum.ElementCode<T>(), count, 0, offset);
        if (WorldSize == 1) return;
        var world = WorldSize;
        var regions = stackalloc T*[world];
        for (var rank = 0; rank < world; rank++) regions[rank] = (T*)(Region(rank) + offset);
        var perPiece = pieceBytes / sizeof(T);
        var perChunk = RegisteredChunkBytes / sizeof(T);
        for (long done = 0; done < count; done += perPiece)
        {
            var piece = Math.Min(perPiece, count - done);
            long first = done + Rank * piece / world, end = done + (Rank + 1) * piece / world;
            for (var at = first; at < end; at += perChunk)
                SumAcrossRegions(regions, at, Math.Min(perChunk, end - at));
        }
        Synchronize(operation);
    }

    /// <summary>regions[Rank] += every other region in rank order, then the sum into every other region; one cache-sized chunk.</summary>
    void SumAcrossRegions<T>(T** regions, long at, long length) where T : unmanaged, IAdditionOperators<T, T, T>
    {
        var own = regions[Rank] + at;
        var last = Rank == WorldSize - 1 ? WorldSize - 2 : WorldSize - 1;
        for (var other = 0; other < WorldSize; other++)
            if (other != Rank && other != last) ElementwiseSum.AddInto(own, regions[other] + at, length);
        ElementwiseSum.AddIntoAndCopy(own, regions[last] + at, regions[last] + at, length);
        for (var other = 0; other < WorldSize; other++)
            if (other != Rank && other != last) Copy(own, regions[other] + at, length);
    }

    /// <summary>A registered tensor's storage was freed: its range is free again, and the segment goes once the collective is disposed and no tensor is left.</summary>
    void ReleaseRegistered(long offset)
    {
        region.Release(offset);
        UnmapWhenUnused();
    }

    void UnmapWhenUnused()
    {
        lock (unmapping)
        {
            if (unmapped || Volatile.Read(ref disposed) == 0 || region.Live > 0) return;
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
        var operation = Begin(OperationKind.Barrier, "barrier", 0, 0, 0, Unregistered);
        Synchronize(operation);
    }

    public void Abort()
    {
        brokenBecause ??= $"rank {Rank} aborted the collective";
        if (Volatile.Read(ref disposed) != 0) return;
        Interlocked.CompareExchange(ref *AbortWord, Rank + 1, 0);
        Wake();
    }

    /// <summary>Leaves the group; the segment stays mapped until the last registered tensor of this rank is freed.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        brokenBecause ??= "the collective was disposed";
        Volatile.Write(ref *State(Rank), 1);
        Wake();
        UnmapWhenUnused();
    }

    void IHostSum.AllReduceSum<T>(nint data, long count)
    {
        var operation = Begin(OperationKind.AllReduce, $"{typeof(T).Name}, {count} elements", HostSum.ElementCode<T>(), count, 0, Unregistered);
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
                if (part != Rank) Copy(values + Start(part), (T*)Input(Rank) + Start(part), Length(part));
            Synchronize(operation);
            // 2. Sum the own part over every rank and publish it; the last addition also writes the shared result.
            var own = values + Start(Rank);
            var length = Length(Rank);
            for (var other = 0; other < world; other++)
            {
                if (other == Rank) continue;
                var last = other == world - 1 || (other == world - 2 && Rank == world - 1);
                if (last) ElementwiseSum.AddIntoAndCopy(own, (T*)Input(other) + Start(Rank), (T*)Result + Start(Rank), length);
                else ElementwiseSum.AddInto(own, (T*)Input(other) + Start(Rank), length);
            }
            Synchronize(operation);
            // 3. Collect the parts the other ranks summed.
            for (var part = 0; part < world; part++)
                if (part != Rank) Copy((T*)Result + Start(part), values + Start(part), Length(part));
            if (piece <= 0) break;
        }
    }

    void Broadcast(byte* data, long bytes, int root, string what)
    {
        if ((uint)root >= (uint)WorldSize)
            throw new ArgumentOutOfRangeException(nameof(root), root, $"the broadcast root must be a rank in 0..{WorldSize - 1}");
        var operation = Begin(OperationKind.Broadcast, $"{what}, root {root}", 0, bytes, root, Unregistered);
        if (WorldSize == 1) return;
        for (long done = 0; done < bytes || done == 0; done += pieceBytes)
        {
            var piece = Math.Min(pieceBytes, bytes - done);
            if (Rank == root) Copy(data + done, Result, piece);
            Synchronize(operation);
            if (Rank != root) Copy(Result, data + done, piece);
            Synchronize(operation);
            if (piece <= 0) break;
        }
    }

    static void Copy<T>(T* source, T* target, long count) where T : unmanaged
    {
        if (count > 0) Buffer.MemoryCopy(source, target, count * sizeof(T), count * sizeof(T));
    }

    enum OperationKind { AllReduce = 1, Broadcast = 2, Barrier = 3 }

    /// <summary>
    /// Publishes this rank's operation, waits for every rank, and checks they all called the same one (for a registered
    /// all-reduce: on a tensor at the same offset of the region; <see cref="Unregistered"/> otherwise).
    /// </summary>
    string Begin(OperationKind kind, string what, int elementKind, long count, int root, long registeredOffset)
    {
        var number = ++sequence;
        var operation = $"{kind switch { OperationKind.AllReduce => "all-reduce", OperationKind.Broadcast => "broadcast", _ => "barrier" }} #{number} ({what}) on rank {Rank}";
        if (brokenBecause is { } reason)
            throw new CollectiveException($"{operation}: the collective cannot be used: {reason}");
        if (WorldSize == 1) return operation;
        var mine = Descriptor(Rank);
        *(int*)mine = (int)kind;
        *(long*)(mine + 4) = number;
        *(int*)(mine + 12) = elementKind;
        *(long*)(mine + 16) = count;
        *(int*)(mine + 24) = root;
        *(long*)(mine + 28) = registeredOffset;
        Synchronize(operation);
        // Every rank's descriptor stays put until the operation's next barrier, which each operation has.
        for (var other = 0; other < WorldSize; other++)
        {
            var theirs = Descriptor(other);
            if (other == Rank || new ReadOnlySpan<byte>(theirs, DescriptorBytes).SequenceEqual(new ReadOnlySpan<byte>(mine, DescriptorBytes))) continue;
            var onlyPlacement = new ReadOnlySpan<byte>(theirs, 28).SequenceEqual(new ReadOnlySpan<byte>(mine, 28));
            throw Break(new CollectiveException(onlyPlacement
                ? $"{operation}: rank {other} all-reduces {Placement(theirs)} while this rank all-reduces {Placement(mine)}; a registered tensor must lie at the same offset of the region on every rank (allocate and dispose registered tensors in the same order everywhere)"
                : $"{operation}: rank {other} called {Describe(theirs)} while this rank called {Describe(mine)}; every rank must issue the same collectives in the same order"));
        }
        return operation;
    }

    static string Describe(byte* descriptor) =>
        $"{(OperationKind)(*(int*)descriptor)} #{*(long*)(descriptor + 4)} (element kind {*(int*)(descriptor + 12)}, count {*(long*)(descriptor + 16)}, root {*(int*)(descriptor + 24)}, {Placement(descriptor)})";

    static string Placement(byte* descriptor) => *(long*)(descriptor + 28) is var offset and >= 0
        ? $"a registered tensor at byte offset {offset} of its region ({*(long*)(descriptor + 16)} elements)"
        : "a tensor outside the registered region";

    /// <summary>Arrives at the next barrier and waits until every rank has.</summary>
    void Synchronize(string operation)
    {
        var target = ++arrivals;
        Volatile.Write(ref *Arrivals(Rank), target);
        Wake();
        var spins = 0;
        var started = DateTime.UtcNow;
        var nextLivenessCheck = started + LivenessCheckEvery;
        for (var waiting = 0; waiting < WorldSize;)
        {
            var generation = Volatile.Read(ref *WakeWord);
            if (Volatile.Read(ref *AbortWord) is var aborted and > 0)
                throw Break(new CollectiveException($"{operation}: rank {aborted - 1} aborted the collective"));
            if (Volatile.Read(ref *Arrivals(waiting)) >= target)
            {
                waiting++;
                continue;
            }
            if (Volatile.Read(ref *State(waiting)) == 1)
                throw Break(new CollectiveException($"{operation}: rank {waiting} left the group (it disposed its collective) before this barrier"));
            if (brokenBecause is { } reason)
                throw new CollectiveException($"{operation}: {reason}");
            if (spins++ < 64)
            {
                Thread.SpinWait(32);
                continue;
            }
            SharedWait.Wait(WakeWord, generation, (int)LivenessCheckEvery.TotalMilliseconds);
            var now = DateTime.UtcNow;
            if (now < nextLivenessCheck) continue;
            nextLivenessCheck = now + LivenessCheckEvery;
            var pid = Volatile.Read(ref *Pid(waiting));
            if (pid != 0 && !ProcessLiveness.IsAlive(pid))
                throw Break(new CollectiveException($"{operation}: rank {waiting} (process {pid}) exited while this rank waited for it (the peer died)"));
            if (now - started > timeout)
                throw Break(new CollectiveException($"{operation}: rank {waiting} did not arrive within the timeout of {timeout.TotalSeconds:0.###} s"));
        }
    }

    void Wake()
    {
        Interlocked.Increment(ref *WakeWord);
        SharedWait.WakeAll(WakeWord);
    }

    /// <summary>Marks the group broken everywhere, so the other ranks fail at once instead of at their timeout.</summary>
    CollectiveException Break(CollectiveException e)
    {
        brokenBecause ??= e.Message;
        Interlocked.CompareExchange(ref *AbortWord, Rank + 1, 0);
        Wake();
        return e;
    }
}
