namespace SpectralDiffusion.Worker.Distributed;

/// <summary>An NCCL call returned an error; the message names the call, the <c>ncclResult_t</c> and what it usually means.</summary>
public sealed class NcclException(string call, NcclResult result, string message) : CollectiveException(message)
{
    public string Call { get; } = call;
    public NcclResult Result { get; } = result;

    /// <summary>Turns a non-success result into an exception; <paramref name="detail"/> is <c>ncclGetErrorString</c>'s text when the library is loaded.</summary>
    public static NcclException From(string call, NcclResult result, string? detail = null)
    {
        var meaning = result switch
        {
            NcclResult.UnhandledCudaError => "a CUDA call failed inside NCCL (device lost, out of memory, or a bad device pointer)",
            NcclResult.SystemError => "a system call failed (network, shared memory or file descriptors)",
            NcclResult.InternalError => "NCCL hit an internal error (often a peer that died mid-operation)",
            NcclResult.InvalidArgument => "an argument was invalid (null or non-CUDA pointer, bad count, dtype or root)",
            NcclResult.InvalidUsage => "the ranks used NCCL inconsistently (mismatched collectives, world size or device)",
            NcclResult.RemoteError => "a remote rank failed or its connection broke",
            NcclResult.InProgress => "the operation is still in progress (non-blocking communicator)",
            _ => "unknown NCCL result",
        };
        var name = Enum.IsDefined(result) ? $"nccl{result}" : $"ncclResult_t {(int)result}";
        var text = string.IsNullOrWhiteSpace(detail) ? "" : $" (\"{detail}\")";
        return new NcclException(call, result, $"{call} failed with {name}{text}: {meaning}");
    }

    public static void ThrowIfFailed(NcclResult result, string call, Func<NcclResult, string?>? describe = null)
    {
        if (result != NcclResult.Success) throw From(call, result, describe?.Invoke(result));
    }
}

/// <summary>The nccl backend cannot start here: CUDA or libnccl.so.2 is missing. CPU jobs use the tcp backend.</summary>
public sealed class NcclUnavailableException(string reason) : CollectiveException(
    $"the nccl collective backend is unavailable: {reason}. It needs a CUDA GPU (a TorchSharp-cuda build, -p:TorchBackend=cuda) and libnccl.so.2 " +
    "on the library path (e.g. the libnccl2 package or the NVIDIA CUDA image); cpu jobs use the tcp backend (backend \"tcp\")");
