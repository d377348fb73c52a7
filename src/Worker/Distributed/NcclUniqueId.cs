using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>NCCL's <c>ncclUniqueId</c>: 128 opaque bytes that rank 0 creates and every rank passes to <c>ncclCommInitRank</c>.</summary>
[StructLayout(LayoutKind.Sequential, Size = Bytes)]
public unsafe struct NcclUniqueId
{
    /// <summary><c>NCCL_UNIQUE_ID_BYTES</c>.</summary>
    public const int Bytes = 128;

    fixed byte value[Bytes];

    public readonly byte[] ToArray()
    {
        var copy = new byte[Bytes];
        fixed (byte* source = value)
            new ReadOnlySpan<byte>(source, Bytes).CopyTo(copy);
        return copy;
    }

    /// <summary>Rebuilds the id that rank 0 put in the rendezvous; anything but 128 bytes is refused.</summary>
    public static NcclUniqueId FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Bytes)
            throw new ArgumentException($"an ncclUniqueId is {Bytes} bytes, got {bytes.Length} (the rendezvous value is not one rank 0 put)", nameof(bytes));
        var id = new NcclUniqueId();
        bytes.CopyTo(new Span<byte>(id.value, Bytes));
        return id;
    }

    static NcclUniqueId()
    {
        // The native call takes the struct by value: its managed size must be exactly NCCL's.
        if (Unsafe.SizeOf<NcclUniqueId>() != Bytes) throw new InvalidOperationException("NcclUniqueId must be 128 bytes");
    }
}
