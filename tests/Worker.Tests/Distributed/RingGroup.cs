using SpectralDiffusion.Worker.Distributed;

namespace SpectralDiffusion.Worker.Tests.Distributed;

/// <summary>W ranks of a <see cref="TcpRingCollective"/> in this process, one thread each, over real loopback sockets.</summary>
sealed class RingGroup(int worldSize, TimeSpan? timeout = null) : CollectiveGroup<TcpRingCollective>(worldSize, (rank, rendezvous) =>
    TcpRingCollective.ConnectAsync(rank, worldSize, rendezvous, "run-1/attempt-1", new TcpRingOptions { Timeout = timeout ?? TimeSpan.FromSeconds(20) }));
