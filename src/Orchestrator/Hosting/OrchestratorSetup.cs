using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using Serilog;
using SpectralDiffusion.Orchestrator.Artifacts;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Retention;
using SpectralDiffusion.Orchestrator.Coordination;
using SpectralDiffusion.Orchestrator.Dashboard;
using SpectralDiffusion.Orchestrator.Security;
using SpectralDiffusion.Orchestrator.Services;
using SpectralDiffusion.Orchestrator.Sweeps;
using SpectralDiffusion.Shared.Logging;
using SpectralDiffusion.Orchestrator.Attempts;
using SpectralDiffusion.Orchestrator.Delivery;
using SpectralDiffusion.Orchestrator.Standby;
using SpectralDiffusion.Orchestrator.Leases;
using SpectralDiffusion.Orchestrator.RankLogs;
using SpectralDiffusion.Orchestrator.Monitoring;
using SpectralDiffusion.Orchestrator.Scheduling;
using SpectralDiffusion.Orchestrator.Submission;

namespace SpectralDiffusion.Orchestrator.Hosting;

/// <summary>Wires the orchestrator: options, Kestrel (gRPC over HTTP/2, the dashboard on its own port, TLS when configured), PostgreSQL, the domain, background loops, gRPC, the dashboard.</summary>
public static class OrchestratorSetup
{
    /// <summary>How long a stop (SIGTERM) may take: in-flight calls finish and the background loops commit.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(20);
    /// <summary>The gRPC health service name whose status leaves the database out: a liveness probe asks it.</summary>
    public const string LivenessService = "liveness";
    public const string LivenessPath = "/healthz/live";
    public const string ReadinessPath = "/healthz/ready";
    /// <summary>
    /// How often the checks are run for the gRPC health service's Watch streams (a Check call runs them itself). A takeover
    /// or a step down reaches a watcher within this: the publisher's default (30 s) would leave a load balancer sending
    /// clients to a standby for that long. The checks are cheap (a <c>SELECT 1</c> and two in-memory reads).
    /// </summary>
    public static readonly TimeSpan HealthPublishPeriod = TimeSpan.FromSeconds(1);

    public static WebApplicationBuilder AddOrchestrator(this WebApplicationBuilder builder)
    {
        Log.Logger = SerilogSetup.CreateLogger(builder.Configuration, "orchestrator");
        builder.Host.UseSerilog();
        var server = OrchestratorConfiguration.Read<ServerOptions>(builder.Configuration);
        var host = OrchestratorConfiguration.Read<SecurityOptions>(builder.Configuration).Host;
        builder.Services.AddOrchestratorOptions();
        builder.WebHost.ConfigureKestrel(kestrel => Listen(kestrel, host, server));
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = ShutdownTimeout);

        var services = builder.Services;
        services.AddSingleton(provider => DatabaseConnections.Create(provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.Database));
        services.AddSingleton(provider => DatabaseResilience.Create(provider.GetRequiredService<NpgsqlDataSource>(),
            provider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseResilience).FullName!)));
        services.AddSingleton(provider => new Database(provider.GetRequiredService<NpgsqlDataSource>(), provider.GetRequiredService<ResiliencePipeline>()));
        services.AddSingleton(provider => new ArtifactStore(provider.GetRequiredService<IOptions<ArtifactOptions>>().Value.ArtifactRoot));
        services.AddSingleton<RendezvousWaiters>().AddSingleton<RendezvousStore>().AddSingleton<AssignmentHub>().AddSingleton<JobEventHub>().AddSingleton<SchedulerSignal>()
            .AddSingleton<NotificationDispatcher>().AddSingleton<JobSpecIntake>().AddSingleton<JobSubmission>().AddSingleton<WorkerRegistry>().AddSingleton<AttemptReports>()
            .AddSingleton<ArtifactIntake>().AddSingleton<JobArtifactCatalog>().AddSingleton<WorkerArtifactScope>().AddSingleton<Scheduler>().AddSingleton<LeaseWatchdog>().AddSingleton<WorkerCredentials>()
            .AddSingleton<LeaseRenewals>().AddSingleton<JobInsertBatcher>();
        services.AddSingleton<SweepSubmission>().AddSingleton<SweepReports>();
        services.AddSingleton<FailedAuthentications>();
        services.AddSingleton<Leadership>().AddSingleton<MigrationService>();
        services.AddSingleton<GarbageCollector>().AddSingleton<RetentionPass>();
        services.AddSingleton<LogIntake>().AddSingleton<LogReader>().AddSingleton(provider => new LogFollower(provider.GetRequiredService<LogReader>(), TimeProvider.System));
        services.AddSingleton<OrchestratorMetrics>().AddSingleton<ClusterGauges>();

        services.AddHostedService<PortProbe>();
        // The lock next: the loops after it run only while this process is the active orchestrator, and it stops after them.
        services.AddHostedService<LeadershipService>();
        services.AddHostedService(provider => ActivatorUtilities.CreateInstance<PeriodicLoop<Scheduler>>(provider));
        services.AddHostedService(provider => ActivatorUtilities.CreateInstance<PeriodicLoop<LeaseWatchdog>>(provider));
        services.AddHostedService<LeaseRenewalsWriter>();
        services.AddHostedService(provider => ActivatorUtilities.CreateInstance<PeriodicLoop<RetentionPass>>(provider));

        services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<RpcMetricsInterceptor>();
            grpc.Interceptors.Add<ErrorMappingInterceptor>();
            grpc.Interceptors.Add<StandbyInterceptor>();
            grpc.Interceptors.Add<AuthInterceptor>();
            grpc.Interceptors.Add<RequestValuesInterceptor>();
            grpc.MaxReceiveMessageSize = server.MaxMessageBytes;
            grpc.MaxSendMessageSize = server.MaxMessageBytes;
        });
        // The default service ("") is readiness and includes PostgreSQL and being the active orchestrator (a standby is not
        // ready); "liveness" only says the process answers, so a liveness probe does not restart the orchestrator during a
        // database outage that it rides out, nor a standby.
        services.AddGrpcHealthChecks(health =>
        {
            health.Services.Map("", _ => true);
            health.Services.Map(LivenessService, check => check.Name == "process");
        }).AddCheck("process", () => HealthCheckResult.Healthy()).AddCheck<DatabaseHealthCheck>("database")
          .AddCheck<LeadershipHealthCheck>("active");
        services.Configure<HealthCheckPublisherOptions>(publisher =>
        {
            publisher.Delay = TimeSpan.Zero;
            publisher.Period = HealthPublishPeriod;
        });
        services.AddGrpcReflection();
        services.UseMalformedRequestGuard();
        services.AddDashboard();
        return builder;
    }

    public static WebApplication MapOrchestrator(this WebApplication app)
    {
        app.MapGrpcService<JobsService>();
        app.MapGrpcService<WorkersService>();
        app.MapGrpcService<RendezvousService>();
        app.MapGrpcService<RunHistoryService>();
        app.MapGrpcService<SweepsService>();
        app.MapGrpcService<JobArtifactsService>();
        app.MapGrpcService<LogsService>();
        app.MapGrpcHealthChecksService();
        // The same two answers over plain HTTP for probes that cannot speak gRPC over TLS (Kubernetes httpGet with
        // scheme HTTPS does not verify the certificate): 200 Healthy or 503 Unhealthy.
        app.MapHealthChecks(LivenessPath, new HealthCheckOptions { Predicate = check => check.Name == "process" });
        app.MapHealthChecks(ReadinessPath);
        app.MapGrpcReflectionService();
        app.MapDashboard();
        app.MapMetrics();
        return app;
    }

    /// <summary>gRPC on Host:Port over HTTP/2 and the dashboard on Host:DashboardPort; with Tls:CertificatePath both over TLS (PFX, or PEM with Tls:KeyPath).</summary>
    static void Listen(KestrelServerOptions kestrel, string host, ServerOptions settings)
    {
        var address = BindAddress(host);
        // gRPC first: its bound address is the first one Kestrel reports (OrchestratorHost relies on that order).
        kestrel.Listen(address, settings.Port, listen => Configure(listen, HttpProtocols.Http2, settings.Tls));
        kestrel.Listen(address, settings.EffectiveDashboardPort, listen => Configure(listen, HttpProtocols.Http1AndHttp2, settings.Tls));
    }

    /// <summary>The address Orchestrator:Host names: localhost, * (every interface) or an IP address.</summary>
    public static IPAddress BindAddress(string host) =>
        host is "localhost" ? IPAddress.Loopback
        : host is "*" or "" ? IPAddress.Any
        : IPAddress.TryParse(host, out var parsed) ? parsed
        : throw new OptionsValidationException(OrchestratorConfiguration.Section, typeof(SecurityOptions),
            [$"Orchestrator:Host '{host}' is not an IP address (use 127.0.0.1, 0.0.0.0 or an interface address)"]);

    static void Configure(ListenOptions listen, HttpProtocols protocols, TlsOptions tls)
    {
        listen.Protocols = protocols;
        if (tls.CertificatePath.Length == 0) return;
        listen.UseHttps(tls.KeyPath.Length > 0
            ? X509Certificate2.CreateFromPemFile(tls.CertificatePath, tls.KeyPath)
            : X509CertificateLoader.LoadPkcs12FromFile(tls.CertificatePath, tls.Password.Length > 0 ? tls.Password : null));
    }
}
