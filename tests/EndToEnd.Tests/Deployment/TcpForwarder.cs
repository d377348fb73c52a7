using System.Net;
using System.Net.Sockets;

namespace SpectralDiffusion.EndToEnd.Tests.Deployment;

/// <summary>
/// A loopback TCP port that forwards to another (here: PostgreSQL). <see cref="Cut"/> closes the listener and every
/// forwarded connection, as a database outage looks to its client; <see cref="Restore"/> listens on the same port again.
/// </summary>
public sealed class TcpForwarder : IDisposable
{
    readonly int targetPort;
    readonly List<TcpClient> open = new();
    TcpListener? listener;

    public TcpForwarder(int targetPort)
    {
        this.targetPort = targetPort;
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = AcceptAsync(listener);
    }

    public int Port { get; }

    public void Cut()
    {
        listener?.Stop();
        listener = null;
        lock (open)
        {
            foreach (var client in open) client.Dispose();
            open.Clear();
        }
    }

    public void Restore()
    {
        listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Start();
        _ = AcceptAsync(listener);
    }

    async Task AcceptAsync(TcpListener accepting)
    {
        try
        {
            while (true)
            {
                var inbound = await accepting.AcceptTcpClientAsync();
                var outbound = new TcpClient();
                await outbound.ConnectAsync(IPAddress.Loopback, targetPort);
                lock (open) open.AddRange([inbound, outbound]);
                _ = PumpAsync(inbound, outbound);
                _ = PumpAsync(outbound, inbound);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    static async Task PumpAsync(TcpClient from, TcpClient to)
    {
        try { await from.GetStream().CopyToAsync(to.GetStream()); }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException) { }
        from.Dispose();
        to.Dispose();
    }

    public void Dispose() => Cut();
}
