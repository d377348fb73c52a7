using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Npgsql;
using SpectralDiffusion.Orchestrator.Hosting;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Security;
using SpectralDiffusion.Worker.Agent;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Benchmarks;

/// <summary>
/// <c>benchmarks download [--database CS] [--size-mb 1024] [--rounds 3]</c>: a large model artifact taken out of an
/// orchestrator by <c>orchestrator download</c> (a separate process over gRPC, SHA-256 checked, temporary file renamed)
/// against <c>cp</c> and <c>dd bs=1M</c> of the same stored file, interleaved in rounds; MB/s of each, the ratio of the
/// download to cp, and peak memory: the CLI's maximum RSS, and the orchestrator's peak RSS while serving (its high-water
/// mark is reset after the upload, the orchestrator runs in this process). All three read the stored file from the page
/// cache when it fits there, so the ratio compares the transfer paths, not the disk.
/// </summary>
public static class DownloadBenchmark
{
    public static int Run(string[] args)
    {
        if (BenchmarkOptions.Database(args, "download") is not { } cluster) return 2;
        if (!File.Exists("/usr/bin/time"))
        {
            Console.Error.WriteLine("download: needs GNU time at /usr/bin/time for peak memory (apt-get install time)");
            return 2;
        }
        return RunAsync(cluster, (long)BenchmarkOptions.IntOption(args, "--size-mb", 1024) << 20, BenchmarkOptions.IntOption(args, "--rounds", 3)).GetAwaiter().GetResult();
    }

    static async Task<int> RunAsync(string cluster, long size, int rounds)
    {
        var folder = Directory.CreateTempSubdirectory("sd-download-bench-").FullName;
        var database = $"sd_bench_{Guid.NewGuid():N}";
        var (app, address) = await OrchestratorHost.StartAsync(new Dictionary<string, string?>
        {
            ["Orchestrator:Database"] = new NpgsqlConnectionStringBuilder(cluster) { Database = database }.ConnectionString,
            ["Orchestrator:Host"] = "127.0.0.1", ["Orchestrator:Port"] = "0", ["Orchestrator:DashboardPort"] = "0",
            ["Orchestrator:ArtifactRoot"] = Path.Combine(folder, "store"), ["Orchestrator:Lease"] = "00:05:00",
            ["Serilog:MinimumLevel:Default"] = "Warning",
        });
        try
        {
            Console.WriteLine($"download, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC: {CpuDescription.Describe()}, {size >> 20} MiB artifact, {rounds} rounds, " +
                              $"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            var (jobId, stored) = await PublishModelAsync(address, size, folder);
            File.WriteAllText("/proc/self/clear_refs", "5"); // reset this process's peak RSS: what follows is the serving
            var results = new Dictionary<string, List<(double Seconds, long PeakKiB)>> { ["cp"] = [], ["dd bs=1M"] = [], ["dd direct"] = [], ["orchestrator download"] = [] };
            var target = Path.Combine(folder, "copy.safetensors");
            for (var round = 0; round < rounds; round++)
                foreach (var (name, command) in new (string, string[])[]
                {
                    ("cp", ["cp", stored, target]),
                    ("dd bs=1M", ["dd", $"if={stored}", $"of={target}", "bs=1M", "status=none"]),
                    // The disk itself: read and write past the page cache (what a copy costs when the file is not cached).
                    ("dd direct", ["dd", $"if={stored}", $"of={target}", "bs=1M", "iflag=direct", "oflag=direct", "status=none"]),
                    ("orchestrator download", ["dotnet", Path.Combine(AppContext.BaseDirectory, "orchestrator.dll"), "download", jobId, "--out", target, "--address", address]),
                })
                {
                    File.Delete(target);
                    results[name].Add(Timed(command));
                    if (new FileInfo(target).Length != size) throw new InvalidOperationException($"{name} wrote {new FileInfo(target).Length} bytes, not {size}");
                }
            var serverPeak = PeakRssKiB();
            var mbps = results.ToDictionary(r => r.Key, r => Median(r.Value.Select(v => size / 1e6 / v.Seconds)));
            foreach (var (name, runs) in results)
                Console.WriteLine($"  {name,-22} {mbps[name],8:0} MB/s  (median of {runs.Count}: {string.Join(", ", runs.Select(v => (size / 1e6 / v.Seconds).ToString("0", CultureInfo.InvariantCulture)))}; " +
                                  $"peak RSS {runs.Max(v => v.PeakKiB) / 1024.0:0} MiB)");
            Console.WriteLine($"  download/cp {mbps["orchestrator download"] / mbps["cp"]:0.00}, download/dd {mbps["orchestrator download"] / mbps["dd bs=1M"]:0.00}, " +
                              $"download/disk (dd direct) {mbps["orchestrator download"] / mbps["dd direct"]:0.00}; " +
                              $"orchestrator peak RSS while serving {serverPeak / 1024.0:0} MiB (process total, in-process server) for a {size >> 20} MiB artifact");
            return 0;
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(folder, recursive: true);
            // The cluster's maintenance database: the one the connection string names may not exist (the benchmark makes its own).
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(cluster) { Database = "postgres" }.ConnectionString);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {database} WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }

    /// <summary>A fake worker runs a one-rank job and uploads <paramref name="size"/> random bytes as its model; returns the job and the stored file.</summary>
    static async Task<(string JobId, string StoredPath)> PublishModelAsync(string address, long size, string folder)
    {
        var source = Path.Combine(folder, "model.safetensors");
        await using (var file = File.Create(source))
        {
            var block = new byte[1 << 20];
            for (long written = 0; written < size; written += block.Length)
            {
                Random.Shared.NextBytes(block);
                await file.WriteAsync(block.AsMemory(0, (int)Math.Min(block.Length, size - written)));
            }
        }
        using var channel = GrpcChannel.ForAddress(address);
        var registration = new Workers.WorkersClient(channel);
        var registered = await registration.RegisterAsync(new RegisterWorkerRequest { Name = "download-bench", Node = "bench", Device = DeviceKind.Cpu });
        var identity = new Metadata { { WorkerCredentialHeaders.WorkerId, registered.WorkerId }, { WorkerCredentialHeaders.Secret, registered.WorkerSecret } };
        var worker = new Workers.WorkersClient(channel.Intercept(metadata => { foreach (var entry in identity) metadata.Add(entry); return metadata; }));
        var job = await new Jobs.JobsClient(channel).SubmitAsync(new SubmitJobRequest { Spec = OrchestratorThroughputBenchmark.Spec("download-bench", 1, DeviceKind.Cpu) });
        using var orders = worker.Assignments(new AssignmentsRequest { WorkerId = registered.WorkerId });
        if (!await orders.ResponseStream.MoveNext() || orders.ResponseStream.Current.Start is not { } start)
            throw new InvalidOperationException("the benchmark's worker was given no start order");
        var receipt = await new ArtifactTransfer(worker, Path.Combine(folder, "cache")).UploadAsync(source, new ArtifactHeader
        {
            Kind = ArtifactKind.Model, JobId = job.Id, Attempt = start.Attempt, WorldSize = 1, Name = "model.safetensors",
        }, CancellationToken.None);
        await worker.CompleteAttemptAsync(new AttemptResult
        {
            WorkerId = registered.WorkerId, JobId = job.Id, Attempt = start.Attempt, Succeeded = true, FinalArtifact = receipt.Artifact,
        });
        File.Delete(source);
        var sha = receipt.Artifact["artifact:".Length..];
        return (job.Id, Path.Combine(folder, "store", sha[..2], sha));
    }

    /// <summary>Runs the command under GNU time: wall seconds and maximum resident set (KiB).</summary>
    static (double Seconds, long PeakKiB) Timed(string[] command)
    {
        var start = new ProcessStartInfo("/usr/bin/time") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in (string[])["-f", "peak-kib %M", .. command]) start.ArgumentList.Add(argument);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        var seconds = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0) throw new InvalidOperationException($"{string.Join(' ', command)} exited {process.ExitCode}: {stdout.Result}{stderr}");
        var peak = stderr.Split('\n').Last(l => l.StartsWith("peak-kib ", StringComparison.Ordinal));
        return (seconds, long.Parse(peak["peak-kib ".Length..], CultureInfo.InvariantCulture));
    }

    static long PeakRssKiB() =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
            CultureInfo.InvariantCulture);

    static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
