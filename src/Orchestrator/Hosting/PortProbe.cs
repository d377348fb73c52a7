using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using SpectralDiffusion.Orchestrator.Security;

namespace SpectralDiffusion.Orchestrator.Hosting;

/// <summary>
/// Fails the start, naming the port, when Orchestrator:Port or Orchestrator:DashboardPort is already taken. Registered
/// before every other hosted service: Kestrel binds only after them, and an orchestrator that cannot serve must not
/// migrate the database or run a scheduler or watchdog pass on state another orchestrator owns.
/// </summary>
public sealed class PortProbe(IOptions<ServerOptions> server, IOptions<SecurityOptions> security) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var address = OrchestratorSetup.BindAddress(security.Value.Host);
        Probe(address, server.Value.Port, "Orchestrator:Port");
        Probe(address, server.Value.EffectiveDashboardPort, "Orchestrator:DashboardPort");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    static void Probe(IPAddress address, int port, string key)
    {
        if (port == 0) return; // a free port is picked when Kestrel binds
        var listener = new TcpListener(address, port);
        // As Kestrel binds: a port left in TIME_WAIT by a stopped server is free; one with a listener is not.
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        try { listener.Start(); }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new InvalidOperationException(
                $"{key} {port} on {address} is already in use (another orchestrator?); nothing was started: the database was not migrated and no loop ran", e);
        }
        finally { listener.Stop(); }
    }
}
