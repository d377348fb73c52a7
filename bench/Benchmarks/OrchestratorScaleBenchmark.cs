using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using Npgsql;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Security;
using SpectralDiffusion.Worker.Agent;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Benchmarks;

/// <summary>
/// <c>benchmarks orchestrator-scale [--database CS] [--workers 10000] [--jobs 2000] [--heartbeat-seconds 10] [--unary-heartbeats] [--timeout-seconds 1200]</c>:
/// one orchestrator process (<c>orchestrator serve</c>, default lease and intervals) on a fresh PostgreSQL database,
/// driven on loopback by W fake workers in this process. J gang jobs of world sizes 1, 2, 4, 8 and 10 (in turn; their
/// ranks add up to W when J = W/5) are queued; the workers register, heartbeat every interval and open their
/// assignment streams. Reports the time until every job is assigned, heartbeat latency p50/p99, the leases that expired
/// although their worker heartbeat (all of them: the goal is 0), and the orchestrator's memory. Everything is bounded by
/// the timeout. Workers heartbeat as the agent does, over a KeepAlive stream each (<see cref="HeartbeatStream"/>);
/// <c>--unary-heartbeats</c> makes every heartbeat a unary call instead.
/// </summary>
public static class OrchestratorScaleBenchmark
{
    const int Concurrency = 64;
    static readonly int[] WorldSizes = [1, 2, 4, 8, 10];

    public static int Run(string[] args)
    {
        var cluster = BenchmarkOptions.Option(args, "--database") ?? Environment.GetEnvironmentVariable("SD_BENCH_DATABASE")
            ?? Environment.GetEnvironmentVariable("SD_TEST_DATABASE");
        if (cluster is null)
        {
            Console.Error.WriteLine("orchestrator-scale: needs a PostgreSQL connection string: --database \"Host=...;Username=...\" or env SD_BENCH_DATABASE");
            return 2;
        }
        var workers = BenchmarkOptions.IntOption(args, "--workers", 10_000);
        var jobs = BenchmarkOptions.IntOption(args, "--jobs", 2_000);
        var ranks = Enumerable.Range(0, jobs).Sum(j => WorldSizes[j % WorldSizes.Length]);
        if (ranks > workers)
        {
            Console.Error.WriteLine($"orchestrator-scale: --jobs {jobs} need {ranks} ranks (world sizes {string.Join(",", WorldSizes)} in turn); --workers {workers} is fewer");
            return 2;
        }
        var heartbeat = TimeSpan.FromSeconds(BenchmarkOptions.IntOption(args, "--heartbeat-seconds", 10));
        var timeout = TimeSpan.FromSeconds(BenchmarkOptions.IntOption(args, "--timeout-seconds", 1200));
        var unary = args.Contains("--unary-heartbeats");
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            return RunAsync(cluster, workers, jobs, heartbeat, unary, deadline.Token).GetAwaiter().GetResult();
        }
        catch (Exception e) when (deadline.IsCancellationRequested && e is OperationCanceledException or RpcException)
        {
            Console.Error.WriteLine($"orchestrator-scale: not done within --timeout-seconds {timeout.TotalSeconds:0}");
            return 1;
        }
        catch (RpcException e)
        {
            Console.Error.WriteLine($"orchestrator-scale: the orchestrator failed a call ({e.StatusCode}: {e.Status.Detail})");
            return 1;
        }
    }

    static async Task<int> RunAsync(string cluster, int workerCount, int jobCount, TimeSpan heartbeat, bool unary, CancellationToken deadline)
    {
        var database = new NpgsqlConnectionStringBuilder(cluster) { Database = $"sd_scale_{Guid.NewGuid():N}" }.ConnectionString;
        var folder = Directory.CreateTempSubdirectory("sd-scale-").FullName;
        var port = FreePort();
        using var server = StartOrchestrator(database, folder, port, workerCount);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(deadline);
        try
        {
            var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan };
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}", new GrpcChannelOptions { HttpHandler = handler });
            var jobsClient = new Jobs.JobsClient(channel);
            var workersClient = new Workers.WorkersClient(channel);
            await WaitForServerAsync(jobsClient, server, deadline);
            Console.WriteLine($"orchestrator scale: orchestrator process {server.Id} on 127.0.0.1:{port}, PostgreSQL " +
                              $"{new NpgsqlConnectionStringBuilder(cluster).Host}:{new NpgsqlConnectionStringBuilder(cluster).Port}; {CpuDescription.Describe()}; " +
                              $"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");

            var clock = Stopwatch.StartNew();
            await ForEachAsync(jobCount, j => jobsClient.SubmitAsync(new SubmitJobRequest
            {
                Spec = OrchestratorThroughputBenchmark.Spec($"scale-{j}", WorldSizes[j % WorldSizes.Length], DeviceKind.Cpu),
            }, cancellationToken: deadline).ResponseAsync, deadline);
            Console.WriteLine($"  {jobCount} gang jobs queued in {clock.Elapsed.TotalSeconds:0.0} s");

            // Register every worker and start its heartbeats at once (leases run from registration).
            clock.Restart();
            var fleet = new FakeFleet(workersClient, heartbeat, unary, stop.Token);
            await ForEachAsync(workerCount, w => fleet.RegisterAsync(w), deadline);
            Console.WriteLine($"  {workerCount} workers registered in {clock.Elapsed.TotalSeconds:0.0} s, heartbeating every {heartbeat.TotalSeconds:0} s " +
                              (unary ? "(unary Heartbeat calls)" : "(each over its KeepAlive stream, as the agent)"));

            // All streams open; the clock runs until every job has its ranks.
            clock.Restart();
            var streams = fleet.OpenStreams();
            var assigned = await fleet.AllAssignedAsync(jobCount, deadline);
            var toAssign = clock.Elapsed;
            Console.WriteLine($"  full assignment:     {toAssign.TotalSeconds,8:0.00} s from {workerCount} streams opening to {assigned} jobs assigned");

            // Heartbeats go on for two more intervals, so that every lease is renewed under the full load.
            var startup = fleet.TakeLatencies();
            await Task.Delay(2 * heartbeat, deadline);
            var rss = ResidentMegabytes(server.Id);
            var lost = await CountAsync(database, "SELECT count(*) FROM workers WHERE state = 'lost'");
            var busy = await CountAsync(database, "SELECT count(*) FROM workers WHERE state = 'busy'");
            // The orchestrator goes first: closing 10,000 streams to a live one would lose every worker and abort every attempt.
            // Calls that fail because it is gone are not failures of the run.
            fleet.StopCounting();
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync(deadline);
            stop.Cancel();
            var latencies = fleet.Latencies;
            var all = startup.Concat(latencies).ToArray();
            Console.WriteLine($"  heartbeats:          {all.Length} calls, latency p50 {Percentile(all, 0.50):0.0} ms, p99 {Percentile(all, 0.99):0.0} ms; " +
                              $"while registering and assigning {startup.Length} calls, p50 {Percentile(startup, 0.50):0.0} ms, p99 {Percentile(startup, 0.99):0.0} ms; " +
                              $"after, all assigned: {latencies.Length} calls, p50 {Percentile(latencies, 0.50):0.0} ms, p99 {Percentile(latencies, 0.99):0.0} ms; " +
                              $"{fleet.HeartbeatFailures} failed");
            Console.WriteLine($"  wrongful expiries:   {lost} workers lost although they heartbeat (goal 0); {busy} busy, {fleet.StreamsEnded} streams ended early");
            if (fleet.FirstFailure is { } failure) Console.WriteLine($"  first failure:       {failure}");
            Console.WriteLine($"  orchestrator memory: {rss.Current:0} MB resident ({rss.Peak:0} MB peak)");
            Console.WriteLine("ratios:");
            Console.WriteLine($"  default lease ÷ full assignment: {30 / toAssign.TotalSeconds:0.00}x; lease ÷ heartbeat p99: {30_000 / Percentile(all, 0.99):0}x");
            await Task.WhenAny(Task.WhenAll(streams), Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None));
            return assigned == jobCount && lost == 0 ? 0 : 1;
        }
        finally
        {
            stop.Cancel();
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync(CancellationToken.None);
            }
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(cluster);
            await admin.OpenAsync(CancellationToken.None);
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{new NpgsqlConnectionStringBuilder(database).Database}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync(CancellationToken.None);
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>W fake workers: each registers, heartbeats on its interval (latency recorded) and reads its assignment stream.</summary>
    sealed class FakeFleet(Workers.WorkersClient client, TimeSpan interval, bool unary, CancellationToken stop)
    {
        readonly ConcurrentBag<(string Id, Metadata Credential)> registered = [];
        readonly ConcurrentBag<double> latencies = [];
        readonly ConcurrentDictionary<string, byte> assignedJobs = new();
        int heartbeatFailures, streamsEnded;
        volatile bool counting = true;
        string? firstFailure;

        public double[] Latencies => latencies.ToArray();

        /// <summary>The latencies so far, and starts a new collection (to tell start-up from steady state).</summary>
        public double[] TakeLatencies()
        {
            var taken = new List<double>();
            while (latencies.TryTake(out var latency)) taken.Add(latency);
            return taken.ToArray();
        }
        public int HeartbeatFailures => heartbeatFailures;
        public int StreamsEnded => streamsEnded;

        /// <summary>From now on failed heartbeats and ended streams are the run's shutdown, not counted.</summary>
        public void StopCounting() => counting = false;

        /// <summary>The status of the first counted failure (a heartbeat or a stream), for the report; null when none.</summary>
        public string? FirstFailure => firstFailure;

        void Count(ref int counter, RpcException? error)
        {
            if (!counting) return;
            Interlocked.Increment(ref counter);
            if (error is not null) Interlocked.CompareExchange(ref firstFailure, $"{error.StatusCode}: {error.Status.Detail}", null);
        }

        public async Task RegisterAsync(int index)
        {
            var response = await client.RegisterAsync(new RegisterWorkerRequest { Name = $"scale-worker-{index}", Node = $"node-{index / 8}", Device = DeviceKind.Cpu },
                cancellationToken: stop);
            var credential = new Metadata { { WorkerCredentialHeaders.WorkerId, response.WorkerId }, { WorkerCredentialHeaders.Secret, response.WorkerSecret } };
            registered.Add((response.WorkerId, credential));
            _ = HeartbeatLoopAsync(response.WorkerId, credential);
        }

        async Task HeartbeatLoopAsync(string id, Metadata credential)
        {
            // Spread over the interval, as workers that started at different times would be.
            var next = Stopwatch.GetTimestamp() + (long)(Random.Shared.NextDouble() * interval.TotalSeconds * Stopwatch.Frequency);
            using var stream = new HeartbeatStream(client, id, interval, credential);
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
                    if (wait > TimeSpan.Zero) await Task.Delay(wait, stop);
                    next += (long)(interval.TotalSeconds * Stopwatch.Frequency);
                    var started = Stopwatch.GetTimestamp();
                    try
                    {
                        if (unary) await client.HeartbeatAsync(new HeartbeatRequest { WorkerId = id }, headers: credential, cancellationToken: stop);
                        else await stream.BeatAsync(stop);
                        latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                    catch (RpcException e) when (!stop.IsCancellationRequested)
                    {
                        Count(ref heartbeatFailures, e);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
            catch (RpcException) when (stop.IsCancellationRequested) { }
        }

        public Task[] OpenStreams() => registered.Select(w => StreamAsync(w.Id, w.Credential)).ToArray();

        async Task StreamAsync(string id, Metadata credential)
        {
            try
            {
                using var call = client.Assignments(new AssignmentsRequest { WorkerId = id }, headers: credential, cancellationToken: stop);
                await foreach (var order in call.ResponseStream.ReadAllAsync(stop))
                    if (order.Start is { } start) assignedJobs.TryAdd(start.JobId, 0);
                if (!stop.IsCancellationRequested) Count(ref streamsEnded, null);
            }
            catch (RpcException) when (stop.IsCancellationRequested) { }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
            catch (RpcException e)
            {
                Count(ref streamsEnded, e);
            }
        }

        /// <summary>Waits (polling every 50 ms, bounded by <paramref name="deadline"/>) until start orders named <paramref name="jobs"/> distinct jobs.</summary>
        public async Task<int> AllAssignedAsync(int jobs, CancellationToken deadline)
        {
            while (assignedJobs.Count < jobs) await Task.Delay(50, deadline);
            return assignedJobs.Count;
        }
    }

    static Process StartOrchestrator(string database, string folder, int port, int maxWorldSize)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "orchestrator"))
        {
            WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     "serve", $"--Orchestrator:Database={database}", $"--Orchestrator:Port={port}", "--Orchestrator:Host=127.0.0.1",
                     $"--Orchestrator:ArtifactRoot={Path.Combine(folder, "artifacts")}", $"--Orchestrator:MaxWorldSize={maxWorldSize}",
                     "--Serilog:MinimumLevel:Default=Warning",
                 })
            start.ArgumentList.Add(argument);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the orchestrator process");
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line && line.Contains("ERR")) Console.Error.WriteLine($"  [orchestrator] {line}"); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) Console.Error.WriteLine($"  [orchestrator] {line}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    static async Task WaitForServerAsync(Jobs.JobsClient client, Process server, CancellationToken deadline)
    {
        while (true)
        {
            if (server.HasExited) throw new InvalidOperationException($"the orchestrator process exited with {server.ExitCode}");
            try
            {
                await client.ListAsync(new ListJobsRequest { PageSize = 1 }, cancellationToken: deadline);
                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                await Task.Delay(200, deadline);
            }
        }
    }

    /// <summary>Runs <paramref name="call"/> for 0..count-1 from <see cref="Concurrency"/> concurrent callers.</summary>
    static Task ForEachAsync(int count, Func<int, Task> call, CancellationToken deadline)
    {
        var next = -1;
        return Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count && !deadline.IsCancellationRequested) await call(i);
        }));
    }

    static async Task<long> CountAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    static (double Current, double Peak) ResidentMegabytes(int pid)
    {
        var status = File.ReadAllLines($"/proc/{pid}/status");
        double Field(string name) => double.Parse(status.First(l => l.StartsWith(name, StringComparison.Ordinal)).Split(':')[1].Trim().Split(' ')[0]) / 1024;
        return (Field("VmRSS"), Field("VmHWM"));
    }

    static double Percentile(double[] values, double quantile)
    {
        if (values.Length == 0) return double.NaN;
        Array.Sort(values);
        return values[Math.Min(values.Length - 1, (int)(quantile * values.Length))];
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
