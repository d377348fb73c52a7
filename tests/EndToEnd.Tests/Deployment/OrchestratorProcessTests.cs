using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Npgsql;
using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Orchestrator.Hosting;
using Xunit.Abstractions;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace SpectralDiffusion.EndToEnd.Tests.Deployment;

/// <summary>
/// What container platforms rely on, checked on a real <c>orchestrator serve</c> process: SIGTERM (docker/podman stop,
/// a pod's termination) runs the whole graceful shutdown and exits 0; the liveness health service stays SERVING while
/// PostgreSQL is unreachable and readiness (the default service) does not.
/// </summary>
[Collection(EndToEndCollection.Name)]
public class OrchestratorProcessTests(ITestOutputHelper output)
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Serve_Sigterm_ShutsDownGracefullyAndExitsZero()
    {
        // Arrange
        await using var database = await EndToEndDatabase.CreateAsync();
        await using var orchestrator = Start(database.ConnectionString, out var health);
        await UntilStatusAsync(health, "", ServingStatus.Serving, orchestrator);

        // Act
        var exitCode = await orchestrator.StopAsync(OrchestratorSetup.ShutdownTimeout + TimeSpan.FromSeconds(15));

        // Assert: a clean exit, the host's own shutdown logged, nothing above information level from then on.
        output.WriteLine(orchestrator.Output);
        Assert.Equal(0, exitCode);
        var shutdown = orchestrator.Output.IndexOf("Application is shutting down", StringComparison.Ordinal);
        Assert.True(shutdown >= 0, "the host logged no shutdown");
        Assert.DoesNotMatch(@"\[\d\d:\d\d:\d\d (WRN|ERR|FTL)\]", orchestrator.Output[shutdown..]);
    }

    [Fact]
    public async Task Health_DatabaseUnreachable_LivenessServesAndReadinessDoesNot()
    {
        // Arrange: the orchestrator reaches PostgreSQL through a forwarder the test can cut.
        await using var database = await EndToEndDatabase.CreateAsync();
        var direct = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        using var forwarder = new TcpForwarder(direct.Port);
        var throughForwarder = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Host = "127.0.0.1", Port = forwarder.Port }.ConnectionString;
        var dashboardPort = LocalCluster.FreePort();
        await using var orchestrator = Start(throughForwarder, out var health, dashboardPort);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{dashboardPort}") };
        await UntilStatusAsync(health, "", ServingStatus.Serving, orchestrator);

        // Act
        forwarder.Cut();
        await UntilStatusAsync(health, "", ServingStatus.NotServing, orchestrator);
        var liveDuringOutage = await StatusAsync(health, OrchestratorSetup.LivenessService);
        var httpLiveDuringOutage = (await http.GetAsync(OrchestratorSetup.LivenessPath)).StatusCode;
        var httpReadyDuringOutage = (await http.GetAsync(OrchestratorSetup.ReadinessPath)).StatusCode;
        forwarder.Restore();
        await UntilStatusAsync(health, "", ServingStatus.Serving, orchestrator);

        // Assert: alive through the outage (a liveness probe would not restart it), ready again once the database is
        // back; the HTTP endpoints for TLS deployments say the same.
        Assert.Equal(ServingStatus.Serving, liveDuringOutage);
        Assert.Equal(HttpStatusCode.OK, httpLiveDuringOutage);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, httpReadyDuringOutage);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(OrchestratorSetup.ReadinessPath)).StatusCode);
        Assert.False(orchestrator.HasExited);
    }

    static ChildProcess Start(string database, out Health.HealthClient health, int? dashboardPort = null)
    {
        var port = LocalCluster.FreePort();
        var root = Directory.CreateTempSubdirectory("sd-serve-").FullName;
        var process = ChildProcess.Start("orchestrator", "orchestrator",
        [
            "serve", $"--Orchestrator:Database={database}", $"--Orchestrator:Port={port}",
            $"--Orchestrator:DashboardPort={dashboardPort ?? LocalCluster.FreePort()}", $"--Orchestrator:ArtifactRoot={Path.Combine(root, "artifacts")}",
        ]);
        health = new Health.HealthClient(GrpcChannel.ForAddress($"http://127.0.0.1:{port}"));
        return process;
    }

    static async Task<ServingStatus> StatusAsync(Health.HealthClient health, string service) =>
        (await health.CheckAsync(new HealthCheckRequest { Service = service }, deadline: DateTime.UtcNow.AddSeconds(5))).Status;

    async Task UntilStatusAsync(Health.HealthClient health, string service, ServingStatus expected, ChildProcess orchestrator)
    {
        var deadline = DateTime.UtcNow + Timeout;
        var last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            if (orchestrator.HasExited) break;
            try
            {
                var status = await StatusAsync(health, service);
                if (status == expected) return;
                last = status.ToString();
            }
            catch (RpcException e) { last = e.Status.StatusCode.ToString(); }
            await Task.Delay(250);
        }
        output.WriteLine(orchestrator.Output);
        throw new Xunit.Sdk.XunitException($"health service '{service}' did not become {expected} (last: {last}, exited: {orchestrator.HasExited})");
    }
}
