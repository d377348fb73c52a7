using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// The <c>nccl</c> backend on CUDA tensors' device pointers. One process drives one GPU, its current
/// device (pin it with CUDA_VISIBLE_DEVICES, as the agent's --device does). Operations run on the legacy default
/// stream (0), the stream TorchSharp's kernels use, so they are ordered after the kernels that produced the tensor;
/// each call then synchronises the device, so the result is ready when it returns. A watchdog aborts the
/// communicator when an operation outlives the timeout, so a dead peer raises instead of hanging.
/// </summary>
public sealed class NcclCollective : ICollective
{
    static readonly nint DefaultStream = 0;
    readonly NcclLibrary nccl;
    readonly nint communicator;
    readonly TimeSpan timeout;
    int torndown;
    string? brokenBecause;

    NcclCollective(NcclLibrary nccl, nint communicator, int rank, int worldSize, TimeSpan timeout) =>
        (this.nccl, this.communicator, Rank, WorldSize, this.timeout) = (nccl, communicator, rank, worldSize, timeout);

    public int Rank { get; }
    public int WorldSize { get; }

    /// <summary>
    /// Rank 0 creates the <see cref="NcclUniqueId"/> and puts it under <c>{prefix}/nccl/unique-id</c>; the others get it;
    /// then every rank joins the communicator. Throws <see cref="NcclUnavailableException"/> without CUDA or libnccl.so.2.
    /// </summary>
    public static async Task<NcclCollective> CreateAsync(int rank, int worldSize, IRendezvous rendezvous, string prefix, TimeSpan timeout,
        CancellationToken ct = default, string libraryName = NcclLibrary.DefaultName)
    {
        if (worldSize < 1) throw new ArgumentOutOfRangeException(nameof(worldSize), worldSize, "the world size must be at least 1");
        if ((uint)rank >= (uint)worldSize) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"the rank must be in 0..{worldSize - 1}");
        ArgumentNullException.ThrowIfNull(rendezvous);
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        TorchRuntime.EnsureLoaded();
        if (!cuda.is_available())
            throw new NcclUnavailableException("TorchSharp sees no CUDA device (a CPU build of libtorch, no GPU, or no driver)");
        var nccl = NcclLibrary.Load(libraryName);

        var key = $"{prefix.TrimEnd('/')}/nccl/unique-id";
        NcclUniqueId id;
        if (rank == 0)
        {
            id = nccl.GetUniqueId();
            await rendezvous.PutAsync(key, id.ToArray(), ct);
        }
        else
        {
            id = NcclUniqueId.FromBytes(await rendezvous.GetAsync(key, timeout, ct));
        }
        // ncclCommInitRank blocks until every rank has joined: keep it off the caller's thread.
        var communicator = await Task.Factory.StartNew(() => nccl.CommInitRank(worldSize, id, rank), ct, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            .WaitAsync(timeout, ct);
        return new NcclCollective(nccl, communicator, rank, worldSize, timeout);
    }

    public void AllReduceSum(Tensor tensor)
    {
        var pointer = TensorMemory.Device(tensor, nameof(tensor));
        var type = NcclDataTypes.Of(tensor.dtype);
        Run($"all-reduce ({tensor.dtype}, {tensor.NumberOfElements} elements)",
            () => nccl.AllReduce(pointer, pointer, tensor.NumberOfElements, type, NcclReduction.Sum, communicator, DefaultStream));
    }

    public void Broadcast(Tensor tensor, int root)
    {
        if ((uint)root >= (uint)WorldSize)
            throw new ArgumentOutOfRangeException(nameof(root), root, $"the broadcast root must be a rank in 0..{WorldSize - 1}");
        var pointer = TensorMemory.Device(tensor, nameof(tensor));
        var type = NcclDataTypes.Of(tensor.dtype);
        Run($"broadcast ({tensor.dtype}, {tensor.NumberOfElements} elements, root {root})",
            () => nccl.Broadcast(pointer, pointer, tensor.NumberOfElements, type, root, communicator, DefaultStream));
    }

    public void Barrier()
    {
        using var arrived = ones(1, dtype: ScalarType.Int32, device: CUDA);
        AllReduceSum(arrived);
        var count = arrived.item<int>();
        if (count != WorldSize)
            throw new CollectiveException($"barrier on rank {Rank}: {count} of {WorldSize} ranks arrived (the group is inconsistent)");
    }

    public void Abort()
    {
        brokenBecause ??= $"rank {Rank} aborted the collective";
        if (Interlocked.Exchange(ref torndown, 1) == 0) nccl.CommAbort(communicator);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref torndown, 1) == 0) nccl.CommDestroy(communicator);
    }

    /// <summary>Enqueues one NCCL call on the default stream and waits for the device, aborting the communicator at the timeout.</summary>
    void Run(string operation, Action enqueue)
    {
        if (brokenBecause is { } reason)
            throw new CollectiveException($"{operation} on rank {Rank}: the collective cannot be used: {reason}");
        var timedOut = false;
        using (new Timer(_ => { timedOut = true; AbortQuietly(); }, null, timeout, Timeout.InfiniteTimeSpan))
        {
            try
            {
                enqueue();
                cuda.synchronize();
            }
            catch (NcclException e)
            {
                brokenBecause ??= e.Message;
                throw new CollectiveException($"{operation} on rank {Rank}: {e.Message}", e);
            }
        }
        if (timedOut)
            throw new CollectiveException($"{operation} on rank {Rank}: no completion within the timeout of {timeout.TotalSeconds:0.###} s " +
                                          "(a peer died or stopped calling collectives); the communicator was aborted");
        if (Volatile.Read(ref torndown) != 0)
            throw new CollectiveException($"{operation} on rank {Rank}: {brokenBecause ?? "the communicator was torn down"}");
        var asynchronous = nccl.AsyncError(communicator);
        if (asynchronous != NcclResult.Success)
        {
            var error = NcclException.From($"{operation} on rank {Rank}", asynchronous, nccl.ErrorString(asynchronous));
            brokenBecause ??= error.Message;
            AbortQuietly();
            throw error;
        }
    }

    void AbortQuietly()
    {
        try
        {
            Abort();
        }
        catch (NcclException)
        {
            // Tearing down a communicator that already failed: nothing more to release.
        }
    }
}
