using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// Collectives over ranks on several nodes, several ranks to a node, as NCCL arranges them: the ranks of one node
/// all-reduce through shared memory (<see cref="SharedMemoryCollective"/>, or a loopback ring where that cannot attach),
/// each node's leader (its lowest rank) takes part in the TCP ring between nodes, and the leader then broadcasts the
/// total within its node. Only 1/L of the ranks' bytes cross the network, where L is the ranks per node.
/// <para>
/// Every rank ends with the same bits (the broadcast copies the leader's). The order of the float additions differs from
/// the flat ring's and the one-node path's: first within a node, then across nodes. For W ranks the result differs from
/// the exact sum by at most about (W−1)·ε·Σ|xᵢ| per element (ε = 2⁻²⁴ for float32), the bound of any summation order;
/// integer sums are exact. With one rank per node the hierarchy is not used (it would be the flat ring).
/// </para>
/// Keys: <c>{prefix}/node-{n}/…</c> for node n's local group, <c>{prefix}/nodes/…</c> for the leaders' ring.
/// </summary>
public sealed class HierarchicalCollective : ICollective
{
    readonly NodeTopology topology;
    readonly ICollective local;
    readonly TcpRingCollective? across;
    readonly int node;

    HierarchicalCollective(int rank, NodeTopology topology, ICollective local, TcpRingCollective? across)
    {
        (Rank, this.topology, this.local, this.across) = (rank, topology, local, across);
        node = topology.NodeOf(rank);
    }

    public int Rank { get; }
    public int WorldSize => topology.WorldSize;
    public NodeTopology Topology => topology;

    /// <summary>True when the ranks of this node exchange through shared memory (false: a loopback ring).</summary>
    public bool LocalSharedMemory => local is SharedMemoryCollective;

    /// <summary>Joins this rank's node group, then (leaders only) the ring of node leaders.</summary>
    public static async Task<HierarchicalCollective> ConnectAsync(int rank, NodeTopology topology, IRendezvous rendezvous, string prefix,
        TcpRingOptions options, CancellationToken ct = default)
    {
        options = options.Validated();
        var node = topology.NodeOf(rank);
        int localRank = topology.LocalRank(rank), localWorld = topology.RanksOn(node);
        var nodePrefix = $"{prefix}/node-{node}";
        ICollective local = await SameHostDiscovery.TryConnectAsync(localRank, localWorld, rendezvous, nodePrefix, options.Timeout, ct: ct)
                            ?? (ICollective)await TcpRingCollective.ConnectAsync(localRank, localWorld, rendezvous, nodePrefix, options, ct);
        try
        {
            var across = localRank == 0 ? await TcpRingCollective.ConnectAsync(node, topology.NodeCount, rendezvous, $"{prefix}/nodes", options, ct) : null;
            return new HierarchicalCollective(rank, topology, local, across);
        }
        catch
        {
            local.Dispose();
            throw;
        }
    }

    /// <summary>Sum within the node, sum across node leaders, then the leader's total to every rank of the node.</summary>
    public void AllReduceSum(Tensor tensor) => Run("all-reduce", () =>
    {
        local.AllReduceSum(tensor);
        across?.AllReduceSum(tensor);
        local.Broadcast(tensor, 0);
    });

    /// <summary>The root's node first spreads it to its leader, the leaders' ring carries it, each leader spreads it in its node.</summary>
    public void Broadcast(Tensor tensor, int root)
    {
        if ((uint)root >= (uint)WorldSize)
            throw new ArgumentOutOfRangeException(nameof(root), root, $"the broadcast root must be a rank in 0..{WorldSize - 1}");
        var rootNode = topology.NodeOf(root);
        Run("broadcast", () =>
        {
            if (node == rootNode) local.Broadcast(tensor, topology.LocalRank(root));
            across?.Broadcast(tensor, rootNode);
            if (node != rootNode) local.Broadcast(tensor, 0);
        });
    }

    public void Barrier() => Run("barrier", () =>
    {
        local.Barrier();
        across?.Barrier();
        local.Barrier();
    });

    public void Abort()
    {
        local.Abort();
        across?.Abort();
    }

    public void Dispose()
    {
        local.Dispose();
        across?.Dispose();
    }

    /// <summary>A failure in either level breaks both, so the ranks of this node stop at once instead of at their timeout.</summary>
    void Run(string operation, Action body)
    {
        try
        {
            body();
        }
        catch (CollectiveException e)
        {
            Abort();
            throw new CollectiveException($"hierarchical {operation} on rank {Rank} (node {node} of {topology.NodeCount}): {e.Message}", e);
        }
    }
}
