using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using SpectralDiffusion.Orchestrator.Hosting;

namespace SpectralDiffusion.Orchestrator.Tests;

/// <summary>
/// A real orchestrator in this process: Kestrel on 127.0.0.1 (a free port, kept across restarts), HTTP/2, its own database.
/// Clients are Grpc.Net.Client channels over the socket, with the test credentials in their headers.
/// </summary>
public sealed class OrchestratorServer : IAsyncDisposable
{
    public const string WorkerToken = "test-worker-token";
    public const string SubmitKey = "test-submit-api-key";
    public const string ReadKey = "test-read-api-key";

    readonly Dictionary<string, string?> settings;
    WebApplication? app;
    GrpcChannel? channel;

    OrchestratorServer(Dictionary<string, string?> settings) => this.settings = settings;

    public string Address { get; private set; } = "";
    /// <summary>The web dashboard's address (pages under /ui); a new free port after each restart.</summary>
    public string DashboardAddress => OrchestratorHost.DashboardAddress(app!);
    public IServiceProvider Services => app!.Services;
    public string ArtifactRoot => settings["Orchestrator:ArtifactRoot"]!;

    /// <summary>Starts a server on <paramref name="database"/>; <paramref name="overrides"/> replace defaults (e.g. Orchestrator:Lease).</summary>
    public static async Task<OrchestratorServer> StartAsync(FreshDatabase database, IDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Orchestrator:Database"] = database.ConnectionString,
            ["Orchestrator:Host"] = "127.0.0.1",
            ["Orchestrator:Port"] = "0",
            ["Orchestrator:DashboardPort"] = "0",
            ["Orchestrator:ArtifactRoot"] = Path.Combine(Path.GetTempPath(), "sd-artifacts-" + Guid.NewGuid().ToString("N")),
            ["Orchestrator:WorkerToken"] = WorkerToken,
            ["Orchestrator:ApiKeys:0:Key"] = SubmitKey,
            ["Orchestrator:ApiKeys:0:Role"] = "submit",
            ["Orchestrator:ApiKeys:1:Key"] = ReadKey,
            ["Orchestrator:ApiKeys:1:Role"] = "read",
            // Every test calls from 127.0.0.1 and many refuse credentials on purpose: the tests of the limit set their own.
            ["Orchestrator:FailedAuthenticationLimit"] = "1000000",
            ["Orchestrator:Lease"] = "00:00:02",
            ["Orchestrator:HeartbeatInterval"] = "00:00:00.300",
            ["Orchestrator:SchedulerInterval"] = "00:00:00.200",
            ["Orchestrator:WatchdogInterval"] = "00:00:00.200",
            ["Orchestrator:MaxWorldSize"] = "8",
            ["Orchestrator:MaxMessageBytes"] = (1024 * 1024).ToString(),
            ["Serilog:MinimumLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>()) settings[key] = value;
        var server = new OrchestratorServer(settings);
        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        (app, Address) = await OrchestratorHost.StartAsync(settings);
        settings["Orchestrator:Port"] = new Uri(Address).Port.ToString();
        channel ??= GrpcChannel.ForAddress(Address, new GrpcChannelOptions { MaxReceiveMessageSize = 16 * 1024 * 1024 });
    }

    /// <summary>Graceful stop; <see cref="StartAsync()"/> starts a new server on the same port, database and artifact folder.</summary>
    public async Task StopAsync()
    {
        if (app is null) return;
        await app.StopAsync();
        await app.DisposeAsync();
        app = null;
    }

    public CallInvoker Invoker(string header, string value) =>
        channel!.CreateCallInvoker().Intercept(metadata =>
        {
            metadata.Add(header, value);
            return metadata;
        });

    public CallInvoker AsSubmitter => Invoker("x-api-key", SubmitKey);
    public CallInvoker AsReader => Invoker("x-api-key", ReadKey);
    /// <summary>The registration token alone: enough to register, not to act as a worker.</summary>
    public CallInvoker AsWorker => Invoker("x-worker-token", WorkerToken);

    /// <summary>The registration token and a worker's credential (its id and the secret Register issued).</summary>
    public CallInvoker AsWorkerWith(string workerId, string secret) => AsWorker.Intercept(metadata =>
    {
        metadata.Add(Shared.Security.WorkerCredentialHeaders.WorkerId, workerId);
        metadata.Add(Shared.Security.WorkerCredentialHeaders.Secret, secret);
        return metadata;
    });
    public CallInvoker Anonymous => channel!.CreateCallInvoker();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        channel?.Dispose();
        if (Directory.Exists(ArtifactRoot)) Directory.Delete(ArtifactRoot, recursive: true);
    }
}
