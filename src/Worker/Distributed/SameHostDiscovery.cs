using System.Text;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// Decides through the rendezvous whether a CPU group can use <see cref="SharedMemoryCollective"/>: every rank publishes
/// its host identity (boot id, host name, pid and mount namespaces, the /dev/shm inode), and only when all of them are
/// equal does rank 0 create a segment that the others map. Every rank then publishes whether it attached; the group uses
/// shared memory only if all did, and otherwise every rank falls back to the TCP ring, so the choice is always the
/// same on every rank. Rank 0 also decides the size of the registered regions (<see cref="IRegisteredBuffers"/>): the size
/// asked for, or none when /dev/shm has no room for them; the others read it from the segment. Keys: <c>{prefix}/shm/host-{rank}</c>, <c>{prefix}/shm/segment</c>, <c>{prefix}/shm/attached-{rank}</c>.
/// </summary>
public static class SameHostDiscovery
{
    /// <summary>Returns the shared-memory collective, or null when the ranks are not all on this machine (or one could not attach).</summary>
    public static async Task<SharedMemoryCollective?> TryConnectAsync(int rank, int worldSize, IRendezvous rendezvous, string prefix, TimeSpan timeout,
        int pieceBytes = SharedMemoryCollective.DefaultPieceBytes, long registeredBytes = 0, CancellationToken ct = default)
    {
        if (registeredBytes < 0 || registeredBytes % 4096 != 0)
            throw new ArgumentOutOfRangeException(nameof(registeredBytes), registeredBytes, "the registered bytes per rank must be 0 (off) or a positive multiple of 4096");
        if (worldSize < 2 || (uint)rank >= (uint)worldSize) return null; // the TCP ring reports a bad group
        var identity = HostIdentity(rank);
        await rendezvous.PutAsync($"{prefix}/shm/host-{rank}", Encoding.UTF8.GetBytes(identity), ct);
        for (var other = 0; other < worldSize; other++)
        {
            if (other == rank) continue;
            var theirs = Encoding.UTF8.GetString(await rendezvous.GetAsync($"{prefix}/shm/host-{other}", timeout, ct));
            if (theirs != identity) return null;
        }

        SharedMemoryCollective? collective = null;
        string attached;
        try
        {
            if (rank == 0)
            {
                SharedMemorySegment.RemoveStale();
                collective = SharedMemoryCollective.CreateFirst(worldSize, pieceBytes, registeredBytes, timeout);
                await rendezvous.PutAsync($"{prefix}/shm/segment", Encoding.UTF8.GetBytes(collective.SegmentPath), ct);
            }
            else
            {
                var path = Encoding.UTF8.GetString(await rendezvous.GetAsync($"{prefix}/shm/segment", timeout, ct));
                collective = path.Length == 0 ? null : SharedMemoryCollective.Join(path, rank, worldSize, pieceBytes, timeout);
            }
            attached = collective is null ? "no segment" : "ok";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            collective?.Dispose();
            collective = null;
            attached = e.Message;
            if (rank == 0) await rendezvous.PutAsync($"{prefix}/shm/segment", [], ct);
        }
        await rendezvous.PutAsync($"{prefix}/shm/attached-{rank}", Encoding.UTF8.GetBytes(attached), ct);

        var everyone = attached == "ok";
        for (var other = 0; other < worldSize; other++)
            if (other != rank && Encoding.UTF8.GetString(await rendezvous.GetAsync($"{prefix}/shm/attached-{other}", timeout, ct)) != "ok")
                everyone = false;
        if (!everyone)
        {
            if (rank == 0) collective?.UnlinkSegment();
            collective?.Dispose();
            return null;
        }
        try
        {
            collective!.WaitForAllAttached();
            return collective;
        }
        catch
        {
            collective!.Dispose();
            throw;
        }
    }

    /// <summary>Equal on two ranks exactly when they can map the same /dev/shm file and see each other's process ids.</summary>
    public static string HostIdentity(int rank)
    {
        if (!OperatingSystem.IsLinux() || !Directory.Exists(SharedMemorySegment.Directory))
            return $"no shared memory (rank {rank})";
        try
        {
            var boot = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
            var pidNamespace = new FileInfo("/proc/self/ns/pid").LinkTarget ?? "?";
            var mountNamespace = new FileInfo("/proc/self/ns/mnt").LinkTarget ?? "?";
            return $"{boot}|{Environment.MachineName}|{pidNamespace}|{mountNamespace}|{ShmMount()}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"no host identity (rank {rank}): {e.Message}";
        }
    }

    /// <summary>The mount id and device of /dev/shm (from /proc/self/mountinfo): two tmpfs instances differ.</summary>
    static string ShmMount()
    {
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ');
            if (fields.Length > 4 && fields[4] == SharedMemorySegment.Directory) return $"{fields[0]}:{fields[2]}";
        }
        return "unmounted";
    }
}
