using System.Runtime.InteropServices;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// The P/Invoke binding of libnccl.so.2, resolved at run time so that the worker loads (and says why) where NCCL is absent.
/// Pointers are CUDA device pointers; <c>stream</c> is a <c>cudaStream_t</c>, 0 for the legacy default stream.
/// </summary>
public sealed unsafe class NcclLibrary
{
    public const string DefaultName = "libnccl.so.2";

    readonly delegate* unmanaged<int*, NcclResult> getVersion;
    readonly delegate* unmanaged<NcclUniqueId*, NcclResult> getUniqueId;
    readonly delegate* unmanaged<nint*, int, NcclUniqueId, int, NcclResult> commInitRank;
    readonly delegate* unmanaged<nint, nint, nuint, NcclDataType, NcclReduction, nint, nint, NcclResult> allReduce;
    readonly delegate* unmanaged<nint, nint, nuint, NcclDataType, int, nint, nint, NcclResult> broadcast;
    readonly delegate* unmanaged<nint, NcclResult> commAbort;
    readonly delegate* unmanaged<nint, NcclResult> commDestroy;
    readonly delegate* unmanaged<nint, NcclResult*, NcclResult> commGetAsyncError;
    readonly delegate* unmanaged<NcclResult, byte*> getErrorString;

    NcclLibrary(nint handle, string name)
    {
        nint Export(string symbol) => NativeLibrary.TryGetExport(handle, symbol, out var address)
            ? address
            : throw new NcclUnavailableException($"{name} has no export {symbol} (NCCL 2.10 or newer is needed)");
        getVersion = (delegate* unmanaged<int*, NcclResult>)Export("ncclGetVersion");
        getUniqueId = (delegate* unmanaged<NcclUniqueId*, NcclResult>)Export("ncclGetUniqueId");
        commInitRank = (delegate* unmanaged<nint*, int, NcclUniqueId, int, NcclResult>)Export("ncclCommInitRank");
        allReduce = (delegate* unmanaged<nint, nint, nuint, NcclDataType, NcclReduction, nint, nint, NcclResult>)Export("ncclAllReduce");
        broadcast = (delegate* unmanaged<nint, nint, nuint, NcclDataType, int, nint, nint, NcclResult>)Export("ncclBroadcast");
        commAbort = (delegate* unmanaged<nint, NcclResult>)Export("ncclCommAbort");
        commDestroy = (delegate* unmanaged<nint, NcclResult>)Export("ncclCommDestroy");
        commGetAsyncError = (delegate* unmanaged<nint, NcclResult*, NcclResult>)Export("ncclCommGetAsyncError");
        getErrorString = (delegate* unmanaged<NcclResult, byte*>)Export("ncclGetErrorString");
    }

    /// <summary>Loads NCCL from <paramref name="name"/> (the system's library path by default); throws <see cref="NcclUnavailableException"/> if it cannot.</summary>
    public static NcclLibrary Load(string name = DefaultName)
    {
        if (!NativeLibrary.TryLoad(name, out var handle))
            throw new NcclUnavailableException($"{name} could not be loaded (not installed, or not on LD_LIBRARY_PATH)");
        return new NcclLibrary(handle, name);
    }

    /// <summary>NCCL's version as major.minor.patch (from <c>ncclGetVersion</c>'s code, e.g. 22105 → 2.21.5).</summary>
    public Version Version
    {
        get
        {
            int code;
            Check(getVersion(&code), "ncclGetVersion");
            return code >= 10000 ? new Version(code / 10000, code / 100 % 100, code % 100) : new Version(code / 1000, code / 100 % 10, code % 100);
        }
    }

    public NcclUniqueId GetUniqueId()
    {
        NcclUniqueId id;
        Check(getUniqueId(&id), "ncclGetUniqueId");
        return id;
    }

    /// <summary>Creates this rank's communicator on the current CUDA device; blocks until all <paramref name="worldSize"/> ranks have called it.</summary>
    public nint CommInitRank(int worldSize, NcclUniqueId id, int rank)
    {
        nint communicator;
        Check(commInitRank(&communicator, worldSize, id, rank), $"ncclCommInitRank(rank {rank} of {worldSize})");
        return communicator;
    }

    public void AllReduce(nint send, nint receive, long count, NcclDataType type, NcclReduction reduction, nint communicator, nint stream) =>
        Check(allReduce(send, receive, (nuint)count, type, reduction, communicator, stream), $"ncclAllReduce({count} x {type}, {reduction})");

    public void Broadcast(nint send, nint receive, long count, NcclDataType type, int root, nint communicator, nint stream) =>
        Check(broadcast(send, receive, (nuint)count, type, root, communicator, stream), $"ncclBroadcast({count} x {type}, root {root})");

    /// <summary>Tears the communicator down at once, making pending operations (here and on the peers) return.</summary>
    public void CommAbort(nint communicator) => Check(commAbort(communicator), "ncclCommAbort");

    public void CommDestroy(nint communicator) => Check(commDestroy(communicator), "ncclCommDestroy");

    /// <summary>An error raised asynchronously by a peer or the network since the last call (<c>ncclCommGetAsyncError</c>).</summary>
    public NcclResult AsyncError(nint communicator)
    {
        NcclResult error;
        Check(commGetAsyncError(communicator, &error), "ncclCommGetAsyncError");
        return error;
    }

    public string ErrorString(NcclResult result) => Marshal.PtrToStringUTF8((nint)getErrorString(result)) ?? "";

    void Check(NcclResult result, string call) => NcclException.ThrowIfFailed(result, call, ErrorString);
}
