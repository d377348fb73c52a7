using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Text;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// The <c>tcp</c> backend: rank r sends to rank r+1 and receives from rank r−1 over TCP.
/// All-reduce is a reduce-scatter then an all-gather over W chunks (each rank moves 2(W−1)/W of the buffer);
/// broadcast is forwarded along the ring in pipelined segments. Tensors are read and written in place.
/// Operations are called from one thread at a time; <see cref="Abort"/> may be called from any thread.
/// </summary>
public sealed class TcpRingCollective : ICollective, IHostSum
{
    static readonly byte[] Magic = "SDRING01"u8.ToArray();
    const int HeaderBytes = 32;

    readonly TcpRingOptions options;
    readonly RingLink? next;
    readonly RingLink? previous;
    readonly RingSender? sender;
    readonly byte[] scratch;
    long sequence;
    volatile string? brokenBecause;

    TcpRingCollective(int rank, int worldSize, TcpRingOptions options, RingLink? next, RingLink? previous)
    {
        (Rank, WorldSize, this.options, this.next, this.previous) = (rank, worldSize, options, next, previous);
        scratch = GC.AllocateUninitializedArray<byte>(next is null ? 0 : options.SegmentBytes, pinned: true);
        sender = next is null ? null : new RingSender(next, rank);
    }

    public int Rank { get; }
    public int WorldSize { get; }

    /// <summary>
    /// Listens, publishes this rank's endpoint under <c>{prefix}/tcp/rank-{rank}</c>, and connects the ring:
    /// to the next rank's published endpoint, and from the previous rank (checked by a handshake naming the prefix).
    /// </summary>
    public static async Task<TcpRingCollective> ConnectAsync(int rank, int worldSize, IRendezvous rendezvous, string prefix,
        TcpRingOptions? options = null, CancellationToken ct = default)
    {
        options = (options ?? new TcpRingOptions()).Validated();
        CheckGroup(rank, worldSize);
        ArgumentNullException.ThrowIfNull(rendezvous);
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        if (worldSize == 1) return new TcpRingCollective(rank, worldSize, options, null, null);

        using var listener = new Socket(options.BindAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(options.BindAddress, 0));
        listener.Listen(worldSize);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var host = options.AdvertisedHost ?? options.BindAddress.ToString();
        await rendezvous.PutAsync(EndpointKey(prefix, rank), Encoding.UTF8.GetBytes(FormatEndpoint(host, port)), ct);

        int nextRank = (rank + 1) % worldSize, previousRank = (rank - 1 + worldSize) % worldSize;
        var accepting = AcceptPreviousAsync(listener, rank, worldSize, previousRank, prefix, options.Timeout, ct);
        Socket? nextSocket = null;
        try
        {
            var endpoint = await GetEndpointAsync(rendezvous, prefix, nextRank, options.Timeout, ct);
            nextSocket = await ConnectNextAsync(endpoint, rank, worldSize, nextRank, prefix, options.Timeout, ct);
            var previousSocket = await accepting;
            return new TcpRingCollective(rank, worldSize, options,
                new RingLink(nextSocket, nextRank, options.Timeout), new RingLink(previousSocket, previousRank, options.Timeout));
        }
        catch
        {
            nextSocket?.Dispose();
            listener.Close();
            try { (await accepting).Dispose(); } catch (Exception e) when (e is CollectiveException or OperationCanceledException or SocketException or ObjectDisposedException) { }
            throw;
        }
    }

    public void AllReduceSum(Tensor tensor) => HostSum.AllReduceSum(this, tensor, "tcp");

    /// <summary>All-reduce (sum) of managed or native memory: the same algorithm as <see cref="AllReduceSum(Tensor)"/>.</summary>
    public unsafe void AllReduceSum<T>(Span<T> values) where T : unmanaged, IAdditionOperators<T, T, T>
    {
        fixed (T* pointer = values)
            ((IHostSum)this).AllReduceSum<T>((nint)pointer, values.Length);
    }

    public void Broadcast(Tensor tensor, int root)
    {
        var (pointer, bytes) = TensorMemory.Host(tensor, nameof(tensor));
        Broadcast(pointer, bytes, root, $"{tensor.dtype}, {tensor.NumberOfElements} elements");
    }

    /// <summary>Broadcast of managed or native memory from <paramref name="root"/>.</summary>
    public unsafe void Broadcast<T>(Span<T> values, int root) where T : unmanaged
    {
        fixed (T* pointer = values)
            Broadcast((nint)pointer, (long)values.Length * sizeof(T), root, $"{typeof(T).Name}, {values.Length} elements");
    }

    public void Barrier()
    {
        Span<long> arrived = [1];
        AllReduceSum(arrived);
        if (arrived[0] != WorldSize)
            throw Break(new CollectiveException($"barrier #{sequence}: {arrived[0]} of {WorldSize} ranks arrived (the group is inconsistent)"));
    }

    public void Abort()
    {
        brokenBecause ??= $"rank {Rank} aborted the collective";
        next?.Abort();
        previous?.Abort();
    }

    public void Dispose()
    {
        brokenBecause ??= "the collective was disposed";
        next?.Dispose();
        previous?.Dispose();
        sender?.Dispose();
    }

    unsafe void IHostSum.AllReduceSum<T>(nint data, long count)
    {
        var operation = Begin(Operation.AllReduce, $"{typeof(T).Name}, {count} elements", HostSum.ElementCode<T>(), count, 0);
        if (WorldSize == 1) return;
        var elements = (T*)data;
        var world = WorldSize;
        long Start(int chunk) => chunk * count / world;
        int Chunk(int offset) => ((Rank + offset) % world + world) % world;
        try
        {
            // Reduce-scatter: at step s send chunk r−s, receive chunk r−s−1 and add it in; rank r ends owning chunk r+1.
            for (var step = 0; step < world - 1; step++)
            {
                int outgoing = Chunk(-step), incoming = Chunk(-step - 1);
                sender!.Begin((nint)(elements + Start(outgoing)), (Start(outgoing + 1) - Start(outgoing)) * sizeof(T), operation);
                ReceiveAndAdd(elements + Start(incoming), Start(incoming + 1) - Start(incoming), operation);
                sender.End();
            }
            // All-gather: at step s forward chunk r+1−s (complete), receive chunk r−s (complete) in place.
            for (var step = 0; step < world - 1; step++)
            {
                int outgoing = Chunk(1 - step), incoming = Chunk(-step);
                sender!.Begin((nint)(elements + Start(outgoing)), (Start(outgoing + 1) - Start(outgoing)) * sizeof(T), operation);
                previous!.Receive((nint)(elements + Start(incoming)), (Start(incoming + 1) - Start(incoming)) * sizeof(T), operation);
                sender.End();
            }
        }
        catch (CollectiveException e)
        {
            throw Break(e);
        }
    }

    unsafe void ReceiveAndAdd<T>(T* target, long count, string operation) where T : unmanaged, IAdditionOperators<T, T, T>
    {
        var perSegment = scratch.Length / sizeof(T);
        fixed (byte* buffer = scratch)
        {
            for (long done = 0; done < count; done += perSegment)
            {
                var piece = Math.Min(perSegment, count - done);
                previous!.Receive((nint)buffer, piece * sizeof(T), operation);
                ElementwiseSum.AddInto(target + done, (T*)buffer, piece);
            }
        }
    }

    void Broadcast(nint data, long bytes, int root, string what)
    {
        if ((uint)root >= (uint)WorldSize)
            throw new ArgumentOutOfRangeException(nameof(root), root, $"the broadcast root must be a rank in 0..{WorldSize - 1}");
        var operation = Begin(Operation.Broadcast, $"{what}, root {root}", 0, bytes, root);
        if (WorldSize == 1) return;
        var forwards = next!.PeerRank != root;
        try
        {
            // The root streams segments; every other rank receives each segment in place and forwards it while the next arrives.
            for (long done = 0; done < bytes; done += options.SegmentBytes)
            {
                var piece = Math.Min(options.SegmentBytes, bytes - done);
                if (Rank != root) previous!.Receive(data + (nint)done, piece, operation);
                if (Rank == root || forwards) next.Send(data + (nint)done, piece, operation);
            }
        }
        catch (CollectiveException e)
        {
            throw Break(e);
        }
    }

    enum Operation { AllReduce = 1, Broadcast = 2 }

    /// <summary>Checks the group is usable and that the previous rank is calling the same operation on the same shape.</summary>
    string Begin(Operation kind, string what, int elementKind, long count, int root)
    {
        var number = ++sequence;
        var operation = $"{(kind == Operation.AllReduce ? "all-reduce" : "broadcast")} #{number} ({what}) on rank {Rank}";
        if (brokenBecause is { } reason)
            throw new CollectiveException($"{operation}: the collective cannot be used: {reason}");
        if (WorldSize == 1) return operation;
        Span<byte> mine = stackalloc byte[HeaderBytes], theirs = stackalloc byte[HeaderBytes];
        WriteHeader(mine, kind, number, elementKind, count, root);
        try
        {
            unsafe
            {
                fixed (byte* outgoing = mine, incoming = theirs)
                {
                    next!.Send((nint)outgoing, HeaderBytes, operation);
                    previous!.Receive((nint)incoming, HeaderBytes, operation);
                }
            }
        }
        catch (CollectiveException e)
        {
            throw Break(e);
        }
        if (!mine.SequenceEqual(theirs))
            throw Break(new CollectiveException(
                $"{operation}: rank {previous.PeerRank} called {DescribeHeader(theirs)} while this rank called {DescribeHeader(mine)}; every rank must issue the same collectives in the same order"));
        return operation;
    }

    static void WriteHeader(Span<byte> header, Operation kind, long number, int elementKind, long count, int root)
    {
        BinaryPrimitives.WriteInt32LittleEndian(header, (int)kind);
        BinaryPrimitives.WriteInt64LittleEndian(header[4..], number);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], elementKind);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], count);
        BinaryPrimitives.WriteInt32LittleEndian(header[24..], root);
        BinaryPrimitives.WriteInt32LittleEndian(header[28..], 0);
    }

    static string DescribeHeader(ReadOnlySpan<byte> header) =>
        $"{(Operation)BinaryPrimitives.ReadInt32LittleEndian(header)} #{BinaryPrimitives.ReadInt64LittleEndian(header[4..])} " +
        $"(element kind {BinaryPrimitives.ReadInt32LittleEndian(header[12..])}, count {BinaryPrimitives.ReadInt64LittleEndian(header[16..])}, root {BinaryPrimitives.ReadInt32LittleEndian(header[24..])})";

    /// <summary>Marks the group broken and resets both links, so the neighbours fail at once instead of at their timeout.</summary>
    CollectiveException Break(CollectiveException e)
    {
        brokenBecause ??= e.Message;
        next?.Abort();
        previous?.Abort();
        try
        {
            sender?.End();
        }
        catch (CollectiveException)
        {
            // The send failed too, as expected after the reset.
        }
        return e;
    }

    static void CheckGroup(int rank, int worldSize)
    {
        if (worldSize < 1) throw new ArgumentOutOfRangeException(nameof(worldSize), worldSize, "the world size must be at least 1");
        if ((uint)rank >= (uint)worldSize) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"the rank must be in 0..{worldSize - 1}");
    }

    static string EndpointKey(string prefix, int rank) => $"{prefix.TrimEnd('/')}/tcp/rank-{rank}";

    static string FormatEndpoint(string host, int port) => host.Contains(':') && !host.StartsWith('[') ? $"[{host}]:{port}" : $"{host}:{port}";

    static async Task<string> GetEndpointAsync(IRendezvous rendezvous, string prefix, int rank, TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            return Encoding.UTF8.GetString(await rendezvous.GetAsync(EndpointKey(prefix, rank), timeout, ct));
        }
        catch (TimeoutException e)
        {
            throw new CollectiveException($"tcp ring set-up: rank {rank} did not publish its endpoint: {e.Message}", e);
        }
    }

    static byte[] Handshake(int rank, int worldSize, string prefix)
    {
        var name = Encoding.UTF8.GetBytes(prefix);
        var message = new byte[Magic.Length + 12 + name.Length];
        Magic.CopyTo(message, 0);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(8), rank);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(12), worldSize);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(16), name.Length);
        name.CopyTo(message, 20);
        return message;
    }

    static async Task<Socket> ConnectNextAsync(string endpoint, int rank, int worldSize, int nextRank, string prefix, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        Socket? socket = null;
        try
        {
            socket = await RingLink.ConnectAsync(endpoint, timeout, deadline.Token);
            await socket.SendAsync(Handshake(rank, worldSize, prefix), deadline.Token);
            var accepted = new byte[1];
            if (await socket.ReceiveAsync(accepted, deadline.Token) != 1 || accepted[0] != 1)
                throw new CollectiveException($"tcp ring set-up: rank {nextRank} at {endpoint} refused rank {rank}'s connection (a different run, attempt or world size)");
            return socket;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            socket?.Dispose();
            throw new CollectiveException($"tcp ring set-up: rank {rank} could not connect to rank {nextRank} at {endpoint} within {timeout.TotalSeconds:0.###} s: {e.Message}", e);
        }
        catch
        {
            socket?.Dispose();
            throw;
        }
    }

    /// <summary>Accepts connections until the previous rank of this run presents itself; strays (older attempts) are refused.</summary>
    static async Task<Socket> AcceptPreviousAsync(Socket listener, int rank, int worldSize, int previousRank, string prefix, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var expected = Handshake(previousRank, worldSize, prefix);
        try
        {
            while (true)
            {
                var socket = await listener.AcceptAsync(deadline.Token);
                try
                {
                    var presented = new byte[expected.Length];
                    for (var read = 0; read < presented.Length;)
                    {
                        var got = await socket.ReceiveAsync(presented.AsMemory(read), deadline.Token);
                        if (got == 0) break;
                        read += got;
                    }
                    var valid = presented.AsSpan().SequenceEqual(expected);
                    await socket.SendAsync(new[] { (byte)(valid ? 1 : 0) }, deadline.Token);
                    if (valid) return socket;
                }
                catch (SocketException)
                {
                    // A stray connection that went away; keep waiting for the previous rank.
                }
                socket.Dispose();
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new CollectiveException($"tcp ring set-up: rank {previousRank} did not connect to rank {rank} within {timeout.TotalSeconds:0.###} s");
        }
    }
}
