namespace SpectralDiffusion.Worker.Distributed;

/// <summary>Creates the collective a job's spec names: <c>tcp</c> (CPU tensors) or <c>nccl</c> (CUDA tensors).</summary>
public static class Collectives
{
    public const string Tcp = "tcp";
    public const string Nccl = "nccl";

    /// <summary>Joins the group <paramref name="prefix"/> (a run/attempt namespace in the rendezvous) as <paramref name="rank"/> of <paramref name="worldSize"/>.</summary>
    public static async Task<ICollective> CreateAsync(string backend, int rank, int worldSize, IRendezvous rendezvous, string prefix, TimeSpan timeout,
        CancellationToken ct = default) => backend switch
    {
        Tcp => await ConnectCpuAsync(rank, worldSize, rendezvous, prefix, new TcpRingOptions { Timeout = timeout }, ct),
        Nccl => await NcclCollective.CreateAsync(rank, worldSize, rendezvous, prefix, timeout, ct),
        _ => throw new ArgumentException($"collective backend '{backend}' is unknown: use \"{Tcp}\" (CPU) or \"{Nccl}\" (CUDA)", nameof(backend)),
    };

    /// <summary>
    /// The <c>tcp</c> backend, chosen from which node each rank is on (<see cref="NodeTopology"/>): shared memory when
    /// every rank runs on this machine (<see cref="SameHostDiscovery"/>), the hierarchical all-reduce when several nodes
    /// each hold several ranks (<see cref="HierarchicalCollective"/>), and the TCP ring otherwise (one rank per node, or a
    /// machine without /dev/shm).
    /// </summary>
    public static async Task<ICollective> ConnectCpuAsync(int rank, int worldSize, IRendezvous rendezvous, string prefix, TcpRingOptions options,
        CancellationToken ct = default)
    {
        options = options.Validated();
        if (options.SharedMemoryOnOneHost && worldSize > 1 && (uint)rank < (uint)worldSize)
        {
            var identity = options.NodeName ?? SameHostDiscovery.HostIdentity(rank);
            var topology = await NodeTopology.DiscoverAsync(rank, worldSize, rendezvous, prefix, identity, options.Timeout, ct);
            if (topology.IsHierarchical)
                return await HierarchicalCollective.ConnectAsync(rank, topology, rendezvous, prefix, options, ct);
            if (topology.NodeCount == 1 && await SameHostDiscovery.TryConnectAsync(rank, worldSize, rendezvous, prefix, options.Timeout,
                    registeredBytes: options.RegisteredBytes, ct: ct) is { } local)
                return local;
        }
        return await TcpRingCollective.ConnectAsync(rank, worldSize, rendezvous, prefix, options, ct);
    }

    /// <summary>What a group's choice was, for logs: "shared memory", "hierarchical (…)" or "tcp ring".</summary>
    public static string Describe(ICollective collective) => collective switch
    {
        SharedMemoryCollective => "shared memory",
        HierarchicalCollective hierarchical =>
            $"hierarchical ({hierarchical.Topology}; {(hierarchical.LocalSharedMemory ? "shared memory" : "loopback ring")} within a node, tcp ring across nodes)",
        TcpRingCollective => "tcp ring",
        _ => collective.GetType().Name,
    };

    /// <summary>Blocking form of <see cref="CreateAsync"/> for callers without an async context.</summary>
    public static ICollective Create(string backend, int rank, int worldSize, IRendezvous rendezvous, string prefix, TimeSpan timeout) =>
        CreateAsync(backend, rank, worldSize, rendezvous, prefix, timeout).GetAwaiter().GetResult();
}
