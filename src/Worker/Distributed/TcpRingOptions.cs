using System.Net;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>Settings of the <see cref="TcpRingCollective"/>; the defaults suit ranks on one machine.</summary>
public sealed record TcpRingOptions
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);
    public const int DefaultSegmentBytes = 1 << 20;
    public const long DefaultRegisteredBytes = 64L << 20;

    /// <summary>The address this rank listens on (port chosen by the system).</summary>
    public IPAddress BindAddress { get; init; } = IPAddress.Loopback;

    /// <summary>The host name or address the other ranks connect to; the bind address when null.</summary>
    public string? AdvertisedHost { get; init; }

    /// <summary>The longest any rendezvous get, connect, send or receive may wait before the collective fails.</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>Bytes per pipelined piece: the receive-and-add buffer and the broadcast forwarding unit.</summary>
    public int SegmentBytes { get; init; } = DefaultSegmentBytes;

    /// <summary>When every rank of the group runs on this machine, exchange through shared memory instead of loopback TCP.</summary>
    public bool SharedMemoryOnOneHost { get; init; } = true;

    /// <summary>
    /// The node this rank runs on, as ranks compare it to group themselves (<see cref="NodeTopology"/>); null = detected
    /// from the machine (<see cref="SameHostDiscovery.HostIdentity"/>). Ranks on one node must name it alike.
    /// </summary>
    public string? NodeName { get; init; }

    /// <summary>
    /// With shared memory, the registered region each rank owns (<see cref="IRegisteredBuffers"/>): tensors allocated
    /// there, such as the gradient buckets, are all-reduced without staging copies. The group reserves W times this
    /// much of /dev/shm (and gets no regions when that does not fit); 0 turns it off. A multiple of 4096.
    /// </summary>
    public long RegisteredBytes { get; init; } = DefaultRegisteredBytes;

    /// <summary>Checks the bounds and returns this instance.</summary>
    public TcpRingOptions Validated()
    {
        if (Timeout <= TimeSpan.Zero || Timeout.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "the collective timeout must be positive and under 24 days");
        if (SegmentBytes < 4096 || SegmentBytes % 64 != 0)
            throw new ArgumentOutOfRangeException(nameof(SegmentBytes), SegmentBytes, "the segment size must be at least 4096 bytes and a multiple of 64");
        if (RegisteredBytes < 0 || RegisteredBytes % 4096 != 0)
            throw new ArgumentOutOfRangeException(nameof(RegisteredBytes), RegisteredBytes, "the registered bytes per rank must be 0 (off) or a positive multiple of 4096");
        return this;
    }
}
