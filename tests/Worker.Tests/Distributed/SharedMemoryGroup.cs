using SpectralDiffusion.Worker.Distributed;

namespace SpectralDiffusion.Worker.Tests.Distributed;

/// <summary>
/// W ranks of a <see cref="SharedMemoryCollective"/> in this process, one thread each, found through the same-host
/// discovery (the path the tcp backend takes when every rank is on one machine); small pieces force many rounds.
/// <paramref name="registeredBytes"/> is each rank's registered region (none by default).
/// </summary>
sealed class SharedMemoryGroup(int worldSize, TimeSpan? timeout = null, int pieceBytes = 4096, long registeredBytes = 0) : CollectiveGroup<SharedMemoryCollective>(worldSize,
    async (rank, rendezvous) => await SameHostDiscovery.TryConnectAsync(rank, worldSize, rendezvous, "run-1/attempt-1", timeout ?? TimeSpan.FromSeconds(20), pieceBytes, registeredBytes)
                                ?? throw new InvalidOperationException($"rank {rank}: the ranks of this process were not found to share a host"));
