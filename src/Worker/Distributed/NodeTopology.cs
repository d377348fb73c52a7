using System.Text;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// Which node each rank of a group runs on, learnt from the rendezvous: every rank publishes its node's identity
/// (<see cref="SameHostDiscovery.HostIdentity"/>, or a name set in <see cref="TcpRingOptions.NodeName"/>) under
/// <c>{prefix}/node/rank-{rank}</c> and reads everyone's. Nodes are numbered in the order of their lowest rank, so node 0
/// holds rank 0, and every rank computes the same map. A node's leader is its lowest rank (local rank 0).
/// </summary>
public sealed class NodeTopology
{
    readonly int[] nodeOfRank;
    readonly int[] localRank;
    readonly int[] ranksOnNode;
    readonly int[] leaderOfNode;

    NodeTopology(int[] nodeOfRank)
    {
        this.nodeOfRank = nodeOfRank;
        NodeCount = nodeOfRank.Max() + 1;
        localRank = new int[nodeOfRank.Length];
        ranksOnNode = new int[NodeCount];
        leaderOfNode = Enumerable.Repeat(-1, NodeCount).ToArray();
        for (var rank = 0; rank < nodeOfRank.Length; rank++)
        {
            var node = nodeOfRank[rank];
            localRank[rank] = ranksOnNode[node]++;
            if (leaderOfNode[node] < 0) leaderOfNode[node] = rank;
        }
    }

    public int WorldSize => nodeOfRank.Length;
    public int NodeCount { get; }

    /// <summary>True when ranks share nodes and there is more than one node: the case the hierarchical all-reduce is for.</summary>
    public bool IsHierarchical => NodeCount > 1 && NodeCount < WorldSize;

    public int NodeOf(int rank) => nodeOfRank[rank];
    public int LocalRank(int rank) => localRank[rank];
    public int RanksOn(int node) => ranksOnNode[node];
    public int LeaderOf(int node) => leaderOfNode[node];

    /// <summary>The map from each rank's node identity, in rank order: equal identities are one node.</summary>
    public static NodeTopology FromIdentities(IReadOnlyList<string> identities)
    {
        if (identities.Count == 0) throw new ArgumentException("a group has at least one rank", nameof(identities));
        var numbers = new Dictionary<string, int>(StringComparer.Ordinal);
        var nodeOfRank = identities.Select(identity => numbers.TryGetValue(identity, out var node) ? node : numbers[identity] = numbers.Count).ToArray();
        return new NodeTopology(nodeOfRank);
    }

    /// <summary>Publishes <paramref name="identity"/> as this rank's node and waits for every other rank's.</summary>
    public static async Task<NodeTopology> DiscoverAsync(int rank, int worldSize, IRendezvous rendezvous, string prefix, string identity,
        TimeSpan timeout, CancellationToken ct = default)
    {
        await rendezvous.PutAsync($"{prefix}/node/rank-{rank}", Encoding.UTF8.GetBytes(identity), ct);
        var identities = new string[worldSize];
        for (var other = 0; other < worldSize; other++)
            identities[other] = other == rank ? identity : Encoding.UTF8.GetString(await rendezvous.GetAsync($"{prefix}/node/rank-{other}", timeout, ct));
        return FromIdentities(identities);
    }

    public override string ToString() =>
        string.Join(", ", Enumerable.Range(0, NodeCount).Select(node =>
            $"node {node}: ranks {string.Join(" ", Enumerable.Range(0, WorldSize).Where(rank => nodeOfRank[rank] == node))}"));
}
