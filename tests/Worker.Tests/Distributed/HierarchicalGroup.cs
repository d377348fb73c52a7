using SpectralDiffusion.Worker.Distributed;

namespace SpectralDiffusion.Worker.Tests.Distributed;

/// <summary>
/// Ranks in this process, one thread each, connected by the tcp backend's choice (<see cref="Collectives.ConnectCpuAsync"/>)
/// with the node each rank claims to run on: <c>"a", "a", "b", "b"</c> is two nodes of two ranks.
/// </summary>
sealed class HierarchicalGroup(string[] nodes, TimeSpan? timeout = null) : CollectiveGroup<ICollective>(nodes.Length, (rank, rendezvous) =>
    Collectives.ConnectCpuAsync(rank, nodes.Length, rendezvous, "run-1/attempt-1",
        new TcpRingOptions { Timeout = timeout ?? TimeSpan.FromSeconds(20), NodeName = nodes[rank], RegisteredBytes = 0 }));
