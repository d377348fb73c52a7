using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SpectralDiffusion.Orchestrator.Hosting;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Security;
using SpectralDiffusion.Worker.Agent;
using SpectralDiffusion.Worker.Torch;
using SpectralDiffusion.Orchestrator.Leases;
using SpectralDiffusion.Orchestrator.Services;
using SpectralDiffusion.Orchestrator.Submission;

namespace SpectralDiffusion.Benchmarks;

/// <summary>
/// <c>benchmarks orchestrator [--database CS] [--workers 100] [--jobs 50] [--submits 3000] [--heartbeats 30000]</c>:
/// an in-process orchestrator on a fresh PostgreSQL database, driven over real gRPC by fake clients. Measures submits/s,
/// the time from W registered workers opening their streams to all W holding an assignment (J jobs of world size W/J),
/// and heartbeats/s; prints each against what a cluster of that size needs. As in a deployment, where every CLI user and
/// every worker connects on its own, each concurrent client and each fake worker has its own channel (its own HTTP/2
/// connection), so no two of them share one connection's streams. Heartbeats are measured both as unary calls and over
/// each worker's KeepAlive stream (what the agent uses). Every path is warmed up first and each round lasts long enough
/// (about a second) for the JIT's optimised code to run, as in a server that has been up a while; the gang assignment
/// runs with the submit rounds' jobs still queued (CUDA jobs no worker takes), as a backlog.
/// </summary>
public static class OrchestratorThroughputBenchmark
{
    const int Concurrency = 16, WarmUp = 100, Rounds = 3;
    /// <summary>The goals of the throughput issue, for 100 workers and 16 clients.</summary>
    const int SubmitGoal = 1000, HeartbeatGoal = 10_000;
    static readonly TimeSpan AssignGoal = TimeSpan.FromMilliseconds(300);

    public static int Run(string[] args)
    {
        string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        if (BenchmarkOptions.Database(args, "orchestrator") is not { } cluster) return 2;
        var workers = int.Parse(Arg("--workers") ?? "100");
        var jobs = int.Parse(Arg("--jobs") ?? "50");
        if (jobs < 1 || workers % jobs != 0 || workers < Concurrency)
        {
            Console.Error.WriteLine($"orchestrator: --workers {workers} must be a positive multiple of --jobs {jobs}, and at least {Concurrency}");
            return 2;
        }
        return RunAsync(cluster, workers, jobs, int.Parse(Arg("--submits") ?? "3000"), int.Parse(Arg("--heartbeats") ?? "30000")).GetAwaiter().GetResult();
    }

    static async Task<int> RunAsync(string cluster, int workerCount, int jobCount, int submits, int heartbeats)
    {
        var database = new NpgsqlConnectionStringBuilder(cluster) { Database = $"sd_bench_{Guid.NewGuid():N}" }.ConnectionString;
        var artifacts = Path.Combine(Path.GetTempPath(), "sd-bench-" + Guid.NewGuid().ToString("N"));
        var (app, address) = await OrchestratorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Orchestrator:Database"] = database, ["Orchestrator:Port"] = "0", ["Orchestrator:ArtifactRoot"] = artifacts,
            ["Orchestrator:MaxWorldSize"] = workerCount.ToString(), ["Orchestrator:Lease"] = "00:05:00",
            ["Serilog:MinimumLevel:Default"] = "Warning",
        });
        var channels = new List<GrpcChannel>();
        GrpcChannel Open()
        {
            var channel = GrpcChannel.ForAddress(address);
            channels.Add(channel);
            return channel;
        }
        try
        {
            var jobsClients = Enumerable.Range(0, Concurrency).Select(_ => new Jobs.JobsClient(Open())).ToArray();
            var workersClients = Enumerable.Range(0, workerCount).Select(_ => new Workers.WorkersClient(Open())).ToArray();
            Console.WriteLine($"orchestrator throughput, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC: in-process server {address}, PostgreSQL " +
                              $"{new NpgsqlConnectionStringBuilder(cluster).Host}:{new NpgsqlConnectionStringBuilder(cluster).Port}, {CpuDescription.Describe()}, " +
                              $"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}, {Concurrency} concurrent clients");
            Console.WriteLine($"connections: one gRPC channel (HTTP/2 connection) per client ({Concurrency}) and per worker ({workerCount}): " +
                              $"{channels.Count} in all, none shared");

            // 1. Submits: jobs that no worker can take (cuda), so only the submit path is measured; the first WarmUp calls
            //    (JIT, connection pool) are not timed, as a server that has run a while has done them. Rounds alternate
            //    with the same submits made in-process (the domain and PostgreSQL without gRPC), so that the split between
            //    the two holds under changing load.
            var (intake, submission) = (app.Services.GetRequiredService<JobSpecIntake>(), app.Services.GetRequiredService<JobSubmission>());
            await RateAsync(WarmUp, (caller, _) => jobsClients[caller].SubmitAsync(new SubmitJobRequest { Spec = Spec("warm-up", 1, DeviceKind.Cuda) }).ResponseAsync);
            var (submitRates, domainRates) = (new List<double>(), new List<double>());
            for (var round = 0; round < Rounds; round++)
            {
                submitRates.Add(await RateAsync(submits / Rounds, (caller, _) =>
                    jobsClients[caller].SubmitAsync(new SubmitJobRequest { Spec = Spec("submit-bench", 1, DeviceKind.Cuda) }).ResponseAsync));
                domainRates.Add(await RateAsync(submits / Rounds, (_, _) => submission.SubmitAsync(intake.Accept(Spec("submit-domain", 1, DeviceKind.Cuda)), CancellationToken.None)));
            }
            var submitRate = Median(submitRates);
            Console.WriteLine($"  submits:            {submitRate,8:0} /s  (median of {Rounds} rounds of {submits / Rounds}: {Spread(submitRates)})");
            Console.WriteLine($"    in-process:       {Median(domainRates),8:0} /s  (JobSpecIntake.Accept and JobSubmission.SubmitAsync, no gRPC: {Spread(domainRates)})");

            // 2. Gang assignment: J queued jobs of world size W/J; W workers register, then open their streams at once,
            //    each worker on its own channel.
            for (var j = 0; j < jobCount; j++)
                await jobsClients[0].SubmitAsync(new SubmitJobRequest { Spec = Spec($"gang-{j}", workerCount / jobCount, DeviceKind.Cpu) });
            var registered = await Task.WhenAll(Enumerable.Range(0, workerCount).Select(async w =>
                await workersClients[w].RegisterAsync(new RegisterWorkerRequest { Name = $"bench-worker-{w}", Node = "bench", Device = DeviceKind.Cpu })));
            var ids = registered.Select(r => r.WorkerId).ToArray();
            var credentials = registered.Select(r => new Metadata
            {
                { WorkerCredentialHeaders.WorkerId, r.WorkerId }, { WorkerCredentialHeaders.Secret, r.WorkerSecret },
            }).ToArray();
            var clock = Stopwatch.StartNew();
            var assigned = await Task.WhenAll(ids.Select((id, w) => FirstStartAsync(workersClients[w], id, credentials[w])));
            var assignSeconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"  gang assignment:    {assignSeconds * 1000,8:0} ms from {workerCount} registered workers to all assigned " +
                              $"({jobCount} jobs x {workerCount / jobCount} ranks, {assigned.Distinct().Count()} distinct jobs; " +
                              $"{WarmUp + submits / Rounds * Rounds * 2} CUDA jobs queued behind them)");

            // 3. Heartbeats of the registered workers, round robin, each on its worker's channel, from Concurrency callers at
            //    a time; alternating with the same heartbeats made in-process.
            var registry = app.Services.GetRequiredService<WorkerRegistry>();
            var workerIds = ids.Select(Guid.Parse).ToArray();
            //    Streamed: each worker's beats go over its own KeepAlive stream; caller c beats for the workers w ≡ c (mod
            //    Concurrency) in turn, so that no stream has two beats in flight.
            var streams = ids.Select((id, w) => new HeartbeatStream(workersClients[w], id, TimeSpan.FromSeconds(10), credentials[w])).ToArray();
            Task<HeartbeatResponse> Unary(int i) => workersClients[i % ids.Length].HeartbeatAsync(new HeartbeatRequest { WorkerId = ids[i % ids.Length] },
                headers: credentials[i % ids.Length]).ResponseAsync;
            var beats = new int[Concurrency];
            Task<DateTime> Streamed(int caller)
            {
                var owned = (ids.Length - caller + Concurrency - 1) / Concurrency;
                return streams[caller + Concurrency * (beats[caller]++ % owned)].BeatAsync(CancellationToken.None);
            }
            await RateAsync(WarmUp * 10, (_, i) => Unary(i));
            await RateAsync(WarmUp * 10, (caller, _) => Streamed(caller));
            var (heartbeatRates, streamedRates, inProcess) = (new List<double>(), new List<double>(), new List<double>());
            for (var round = 0; round < Rounds; round++)
            {
                heartbeatRates.Add(await RateAsync(heartbeats / Rounds, (_, i) => Unary(i)));
                streamedRates.Add(await RateAsync(heartbeats / Rounds, (caller, _) => Streamed(caller)));
                inProcess.Add(await RateAsync(heartbeats / Rounds, (_, i) => registry.HeartbeatAsync(workerIds[i % ids.Length], CancellationToken.None)));
            }
            if (streams.Any(s => s.UsesUnary)) throw new InvalidOperationException("the orchestrator answered KeepAlive with UNIMPLEMENTED");
            foreach (var stream in streams) stream.Dispose();
            var (unaryRate, heartbeatRate) = (Median(heartbeatRates), Median(streamedRates));
            Console.WriteLine($"  heartbeats, stream: {heartbeatRate,8:0} /s  (KeepAlive, one stream per worker, as the agent; median of {Rounds} rounds of {heartbeats / Rounds}: {Spread(streamedRates)})");
            Console.WriteLine($"  heartbeats, unary:  {unaryRate,8:0} /s  (Heartbeat calls: {Spread(heartbeatRates)})");
            Console.WriteLine($"    in-process:       {Median(inProcess),8:0} /s  (WorkerRegistry.HeartbeatAsync, no gRPC: {Spread(inProcess)})");

            var interval = LeaseOptions.DefaultHeartbeatInterval.TotalSeconds;
            Console.WriteLine("against the goals (higher is better; 1.0 meets the goal):");
            Console.WriteLine($"  submits:            {submitRate / SubmitGoal,8:0.00}x  ({submitRate:0} /s ÷ goal {SubmitGoal} /s)");
            Console.WriteLine($"  gang assignment:    {AssignGoal.TotalSeconds / assignSeconds,8:0.00}x  (goal {AssignGoal.TotalMilliseconds:0} ms ÷ {assignSeconds * 1000:0} ms)");
            Console.WriteLine($"  heartbeats:         {heartbeatRate / HeartbeatGoal,8:0.00}x  ({heartbeatRate:0} /s over streams ÷ goal {HeartbeatGoal} /s; unary {unaryRate / HeartbeatGoal:0.00}x)");
            Console.WriteLine("ratios (measured ÷ needed):");
            Console.WriteLine($"  heartbeat headroom: {heartbeatRate / (workerCount / interval),8:0.0}x the load of {workerCount} workers at the default {interval:0} s interval " +
                              $"(room for ~{heartbeatRate * interval:0} workers)");
            Console.WriteLine($"  assignment vs lease:{LeaseOptions.DefaultLease.TotalSeconds / assignSeconds,8:0.0}x  (default lease {LeaseOptions.DefaultLease.TotalSeconds:0} s ÷ time to assign all)");
            Console.WriteLine($"  per assigned job:   {assignSeconds * 1000 / jobCount,8:0.0} ms");
            return assigned.Distinct().Count() == jobCount ? 0 : 1;
        }
        finally
        {
            // The server stops first, so that the open assignment streams end as in a shutdown (their workers are not lost).
            await app.StopAsync();
            foreach (var channel in channels) channel.Dispose();
            await app.DisposeAsync();
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(cluster);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{new NpgsqlConnectionStringBuilder(database).Database}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
            if (Directory.Exists(artifacts)) Directory.Delete(artifacts, recursive: true);
        }
    }

    static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    static string Spread(List<double> values) => $"min {values.Min():0}, max {values.Max():0}";

    /// <summary>
    /// Calls per second of <paramref name="call"/>, <paramref name="count"/> calls from <see cref="Concurrency"/> concurrent
    /// callers; <paramref name="call"/> gets the caller's index (0 to <see cref="Concurrency"/> - 1, for its own client)
    /// and the call's (0 to <paramref name="count"/> - 1).
    /// </summary>
    static async Task<double> RateAsync<T>(int count, Func<int, int, Task<T>> call)
    {
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async caller =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count) await call(caller, i);
        }));
        return count / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Opens the worker's stream and returns the job of its first start order; the stream stays open until the server stops.</summary>
    static async Task<string> FirstStartAsync(Workers.WorkersClient client, string workerId, Metadata credential)
    {
        var call = client.Assignments(new AssignmentsRequest { WorkerId = workerId }, headers: credential);
        await foreach (var order in call.ResponseStream.ReadAllAsync())
            if (order.Start is { } start) return start.JobId;
        throw new InvalidOperationException($"worker {workerId}'s stream ended without an assignment");
    }

    internal static JobSpec Spec(string name, int worldSize, DeviceKind device) => new()
    {
        Name = name, Type = JobType.Train, Model = new ModelSpec { Preset = "tiny-sd" }, WorldSize = worldSize, Device = device,
        Dataset = new DatasetSpec { Procedural = new ProceduralDataset { Seed = 1, Count = 4096 } },
        Schedule = new ScheduleSpec { Steps = 100, BatchSize = 8 },
    };
}
