using Grpc.Core;
using Prometheus;

namespace SpectralDiffusion.Orchestrator.Monitoring;

/// <summary>
/// The orchestrator's Prometheus instruments, in a registry of its own (not prometheus-net's static default, so two
/// orchestrators in one process keep apart). What happens in this process is counted here as it happens: scheduling
/// latency, heartbeats, lease expiries and gRPC calls (<see cref="RpcMetricsInterceptor"/>). What PostgreSQL holds
/// (jobs, queues, workers, what the ranks reported) is read at each scrape by <see cref="ClusterGauges"/>.
/// Counters start at zero when the process starts, as Prometheus expects of counters.
/// </summary>
public sealed class OrchestratorMetrics
{
    readonly Histogram schedulingLatency;
    readonly Counter heartbeats;
    readonly Counter leaseExpiries;
    readonly Counter rpcs;
    readonly Histogram rpcDuration;

    public OrchestratorMetrics()
    {
        var factory = Metrics.WithCustomRegistry(Registry);
        schedulingLatency = factory.CreateHistogram("sd_scheduling_latency_seconds",
            "Time a job waited in the queue (since submission, or since its previous attempt ended) until an attempt was scheduled",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.05, 2, 17) });   // 50 ms .. about 55 min
        heartbeats = factory.CreateCounter("sd_heartbeats_total", "Worker heartbeats accepted (lease renewals)");
        leaseExpiries = factory.CreateCounter("sd_lease_expiries_total", "Workers lost because their lease expired");
        rpcs = factory.CreateCounter("sd_grpc_server_handled_total", "gRPC calls finished, by service, method and status code",
            ["grpc_service", "grpc_method", "grpc_code"]);
        rpcDuration = factory.CreateHistogram("sd_grpc_server_handling_seconds",
            "Time from a gRPC call's start to its end (a stream's whole life for streaming calls)", ["grpc_service", "grpc_method"],
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 4, 10) });   // 1 ms .. about 4 min
    }

    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    public void JobScheduled(TimeSpan waited) => schedulingLatency.Observe(Math.Max(0, waited.TotalSeconds));

    public void HeartbeatAccepted() => heartbeats.Inc();

    public void LeaseExpired() => leaseExpiries.Inc();

    /// <summary>Counts a finished call; <paramref name="method"/> is gRPC's full name, <c>/package.Service/Method</c>.</summary>
    public void RpcFinished(string method, StatusCode code, TimeSpan elapsed)
    {
        var slash = method.LastIndexOf('/');
        var (service, name) = slash > 0 ? (method[1..slash], method[(slash + 1)..]) : ("", method);
        rpcs.WithLabels(service, name, code.ToString()).Inc();
        rpcDuration.WithLabels(service, name).Observe(elapsed.TotalSeconds);
    }

    /// <summary>Every instrument in the Prometheus text format (version 0.0.4), after the registry's before-collect callbacks ran.</summary>
    public Task WriteAsync(Stream destination, CancellationToken cancellation) => Registry.CollectAndExportAsTextAsync(destination, cancellation);
}
