using System.Runtime.InteropServices;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// The first bytes of a <see cref="SharedMemoryCollective"/> segment: what rank 0 laid out (checked by every joining rank),
/// the abort word (aborting rank + 1, 0 while healthy) and the futex word bumped on every arrival, each on its own cache line.
/// </summary>
[StructLayout(LayoutKind.Explicit)]
struct SegmentHeader
{
    [FieldOffset(0)] public long Magic;
    [FieldOffset(8)] public int WorldSize;
    [FieldOffset(12)] public int PieceBytes;
    [FieldOffset(16)] public long RegisteredBytes;
    [FieldOffset(64)] public int AbortWord;
    [FieldOffset(128)] public int WakeWord;
}

/// <summary>One rank's slot in the segment header: its barrier arrivals, its process, whether it left, and the operation it is in.</summary>
[StructLayout(LayoutKind.Explicit, Size = SharedSegmentLayout.RankSlotBytes)]
struct RankSlot
{
    [FieldOffset(0)] public long Arrivals;
    [FieldOffset(8)] public int Pid;
    /// <summary><see cref="Present"/> or <see cref="Left"/>.</summary>
    [FieldOffset(12)] public int State;
    [FieldOffset(16)] public OperationDescriptor Operation;

    public const int Present = 0, Left = 1;
}

/// <summary>
/// The collective a rank is in, published before the operation's first barrier so that every rank can check all called
/// the same one. <see cref="RegisteredOffset"/> is where a registered all-reduce's tensor lies in the region, else −1.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
struct OperationDescriptor
{
    [FieldOffset(0)] public int Kind;
    [FieldOffset(4)] public long Number;
    [FieldOffset(12)] public int ElementKind;
    [FieldOffset(16)] public long Count;
    [FieldOffset(24)] public int Root;
    [FieldOffset(28)] public long RegisteredOffset;

    public const long Unregistered = -1;

    /// <summary>The same operation, wherever its tensor lies.</summary>
    public readonly bool SameCall(in OperationDescriptor other) =>
        Kind == other.Kind && Number == other.Number && ElementKind == other.ElementKind && Count == other.Count && Root == other.Root;

    public readonly bool SameOperation(in OperationDescriptor other) => SameCall(other) && RegisteredOffset == other.RegisteredOffset;

    public readonly string Describe(Func<int, string> kindName) =>
        $"{kindName(Kind)} #{Number} (element kind {ElementKind}, count {Count}, root {Root}, {Placement()})";

    public readonly string Placement() => RegisteredOffset >= 0
        ? $"a registered tensor at byte offset {RegisteredOffset} of its region ({Count} elements)"
        : "a tensor outside the registered region";
}

/// <summary>
/// Where everything lies in a segment for W ranks: the header (<see cref="SegmentHeader"/>, then one <see cref="RankSlot"/>
/// per rank from <see cref="FirstRankSlot"/>), one input slot of a piece per rank, the result piece, and from the next
/// page each rank's registered region.
/// </summary>
readonly unsafe struct SharedSegmentLayout(byte* start, int worldSize, int pieceBytes, long registeredBytes)
{
    public const long Magic = 0x3230_4D48_5344_5053; // "SPDSHM02"
    public const int HeaderBytes = 4096;
    public const int RankSlotBytes = 128;
    const int FirstRankSlot = 256;
    const int PageBytes = 4096;

    /// <summary>Bytes of the segment: the header, one input slot per rank, the result, and each rank's registered region.</summary>
    public static long SegmentBytes(int worldSize, int pieceBytes, long registeredBytes) => RegionsStart(worldSize, pieceBytes) + worldSize * registeredBytes;

    /// <summary>The regions start on a page after the result.</summary>
    static long RegionsStart(int worldSize, int pieceBytes) => (HeaderBytes + (long)(worldSize + 1) * pieceBytes + PageBytes - 1) / PageBytes * PageBytes;

    /// <summary>Writes the header of a new segment (its rank slots are still zero: nobody arrived, nobody left).</summary>
    public static void Initialise(byte* start, int worldSize, int pieceBytes, long registeredBytes)
    {
        var header = (SegmentHeader*)start;
        header->Magic = Magic;
        header->WorldSize = worldSize;
        header->PieceBytes = pieceBytes;
        header->RegisteredBytes = registeredBytes;
    }

    /// <summary>The registered bytes per rank of a segment rank 0 laid out for this group, or null when it holds something else.</summary>
    public static long? Read(byte* start, long bytes, int worldSize, int pieceBytes)
    {
        var header = (SegmentHeader*)start;
        var registeredBytes = bytes >= 24 ? header->RegisteredBytes : -1;
        if (bytes < HeaderBytes || header->Magic != Magic || header->WorldSize != worldSize || header->PieceBytes != pieceBytes
            || registeredBytes < 0 || bytes != SegmentBytes(worldSize, pieceBytes, registeredBytes))
            return null;
        return registeredBytes;
    }

    public SegmentHeader* Header => (SegmentHeader*)start;
    public RankSlot* Slot(int rank) => (RankSlot*)(start + FirstRankSlot + rank * RankSlotBytes);
    public byte* Input(int rank) => start + HeaderBytes + (long)rank * pieceBytes;
    public byte* Result => start + HeaderBytes + (long)worldSize * pieceBytes;
    public byte* Region(int rank) => start + RegionsStart(worldSize, pieceBytes) + rank * registeredBytes;
}
