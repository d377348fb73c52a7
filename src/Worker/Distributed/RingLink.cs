using System.Net;
using System.Net.Sockets;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// One connected socket of the ring, to the next rank (send) or from the previous one (receive).
/// Every transfer is bounded by the socket timeouts; any failure becomes a <see cref="CollectiveException"/>
/// that names the peer rank and the operation.
/// </summary>
sealed class RingLink : IDisposable
{
    const int SocketBufferBytes = 4 << 20;
    const int MaxTransferBytes = 1 << 30;
    readonly Socket socket;
    readonly TimeSpan timeout;

    public RingLink(Socket socket, int peerRank, TimeSpan timeout)
    {
        this.socket = socket;
        this.timeout = timeout;
        PeerRank = peerRank;
        Peer = socket.RemoteEndPoint?.ToString() ?? "?";
        socket.NoDelay = true;
        socket.SendBufferSize = SocketBufferBytes;
        socket.ReceiveBufferSize = SocketBufferBytes;
        socket.SendTimeout = (int)timeout.TotalMilliseconds;
        socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
    }

    public int PeerRank { get; }
    public string Peer { get; }

    public unsafe void Send(nint data, long bytes, string operation)
    {
        try
        {
            for (long sent = 0; sent < bytes;)
            {
                var piece = (int)Math.Min(bytes - sent, MaxTransferBytes);
                sent += socket.Send(new ReadOnlySpan<byte>((byte*)data + sent, piece));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            throw Failure(operation, "sending to", e);
        }
    }

    public unsafe void Receive(nint data, long bytes, string operation)
    {
        try
        {
            for (long received = 0; received < bytes;)
            {
                var piece = (int)Math.Min(bytes - received, MaxTransferBytes);
                var got = socket.Receive(new Span<byte>((byte*)data + received, piece));
                if (got == 0)
                    throw new CollectiveException($"{operation}: rank {PeerRank} ({Peer}) closed the connection after {received} of {bytes} bytes (the peer died or aborted)");
                received += got;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            throw Failure(operation, "receiving from", e);
        }
    }

    /// <summary>Closes with a reset so that the peer's pending transfer fails at once.</summary>
    public void Abort()
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
        socket.Close();
    }

    public void Dispose() => socket.Dispose();

    CollectiveException Failure(string operation, string direction, Exception e)
    {
        var reason = e switch
        {
            SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock } => $"no progress within the timeout of {timeout.TotalSeconds:0.###} s",
            SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted } s => $"the connection was reset ({s.SocketErrorCode}: the peer died or aborted)",
            SocketException s => $"{s.SocketErrorCode}: {s.Message}",
            _ => "this rank's collective was aborted",
        };
        return new CollectiveException($"{operation}: {direction} rank {PeerRank} ({Peer}) failed: {reason}", e);
    }

    /// <summary>Connects to <paramref name="endpoint"/> with the collective's timeout.</summary>
    public static async Task<Socket> ConnectAsync(string endpoint, TimeSpan timeout, CancellationToken ct)
    {
        var separator = endpoint.LastIndexOf(':');
        if (separator <= 0 || !int.TryParse(endpoint.AsSpan(separator + 1), out var port))
            throw new CollectiveException($"rendezvous endpoint '{endpoint}' is not host:port");
        var host = endpoint[..separator].Trim('[', ']');
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            if (IPAddress.TryParse(host, out var address))
                await socket.ConnectAsync(new IPEndPoint(address, port), deadline.Token);
            else
                await socket.ConnectAsync(host, port, deadline.Token);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
