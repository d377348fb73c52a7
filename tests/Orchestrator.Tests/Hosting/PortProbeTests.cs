using System.Net;
using System.Net.Sockets;
using SpectralDiffusion.Orchestrator.Hosting;

namespace SpectralDiffusion.Orchestrator.Tests.Hosting;

public class PortProbeTests
{
    [Fact]
    public async Task Start_PortTaken_FailsNamingThePortBeforeMigrating()
    {
        // Arrange: another process's listener on the gRPC port, and a database the orchestrator has never seen.
        var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        await using var database = await TestDatabase.CreateFreshAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Orchestrator:Database"] = database.ConnectionString,
            ["Orchestrator:Host"] = "127.0.0.1",
            ["Orchestrator:Port"] = port.ToString(),
            ["Orchestrator:DashboardPort"] = "0",
            ["Orchestrator:ArtifactRoot"] = Path.Combine(Path.GetTempPath(), "sd-artifacts-" + Guid.NewGuid().ToString("N")),
            ["Orchestrator:WorkerToken"] = OrchestratorServer.WorkerToken,
            ["Serilog:MinimumLevel:Default"] = "Warning",
        };

        try
        {
            // Act
            var error = await Assert.ThrowsAnyAsync<Exception>(() => OrchestratorHost.StartAsync(settings));

            // Assert: the port named; no table created, so no migration, and no scheduler or watchdog pass could have run.
            Assert.Contains($"Orchestrator:Port {port}", error.Message);
            Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"));
        }
        finally { taken.Stop(); }
    }
}
