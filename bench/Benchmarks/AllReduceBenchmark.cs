using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Torch;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SpectralDiffusion.Benchmarks.BenchmarkOptions;
using static SpectralDiffusion.Benchmarks.Measurements;

namespace SpectralDiffusion.Benchmarks;

/// <summary>
/// CPU all-reduce bus bandwidth with every rank a separate process on this machine, 1–256 MB float32: the same-host
/// shared-memory path (what the tcp backend uses when all ranks share a machine) copying an ordinary tensor through the
/// segment, the same path in place on a tensor in the registered regions ("shm registered", no staging copies), the TCP
/// ring on loopback, and PyTorch's gloo (Debian's torch.distributed, bench/peer/allreduce_gloo.py), against a memcpy of
/// the same size. Rounds interleave them (the order rotates each round) so load changes hit them alike; each round takes the best of N iterations
/// (a barrier, then one all-reduce, timed on rank 0), and the table shows the median over rounds.
/// Bus bandwidth follows nccl-tests: bytes × 2(W−1)/W ÷ time.
/// </summary>
public static class AllReduceBenchmark
{
    const string SharedMemory = "shm", SharedMemoryRegistered = "shm-registered", TcpRing = "tcp", Gloo = "gloo";
    const string GlooScript = "bench/peer/allreduce_gloo.py";

    public static int Run(string[] args)
    {
        if (Option(args, "--child-rank") is not null) return RunRank(args);
        var sizes = (Option(args, "--sizes-mb") ?? "1,4,16,64,256").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var rounds = IntOption(args, "--rounds", 3);
        var world = IntOption(args, "--world", 2);
        var gradParametersM = Option(args, "--grad-params-m") ?? "22.4";
        var interpreter = Option(args, "--python") ?? PythonPeer.DefaultInterpreter;
        var transports = new List<string> { SharedMemory, SharedMemoryRegistered, TcpRing };
        var noGloo = PythonPeer.WhyUnavailable(interpreter);
        if (noGloo is null) transports.Add(Gloo);
        Console.WriteLine($"all-reduce, {world} ranks as separate processes on this machine, float32, 1 torch thread each; {CpuDescription.Describe()}; " +
                          $"load average {LoadAverage()}");
        Console.WriteLine($"{rounds} rounds interleaving {string.Join(", ", transports)}{(noGloo is null ? "" : $" (gloo skipped: {noGloo})")}; median over rounds of each round's best");

        var busBandwidth = transports.Append("memcpy").ToDictionary(t => t, _ => sizes.ToDictionary(s => s, _ => new List<double>()));
        for (var round = 0; round < rounds; round++)
        {
            var order = transports.Skip(round % transports.Count).Concat(transports.Take(round % transports.Count));
            foreach (var transport in order)
            {
                var seconds = transport == Gloo ? RunGloo(interpreter, world, sizes) : RunGroup(transport, world, sizes, round == 0 ? gradParametersM : "0");
                foreach (var size in sizes)
                    busBandwidth[transport][size].Add(((long)size << 20) * 2.0 * (world - 1) / world / seconds[(long)size << 20] / 1e9);
            }
            foreach (var size in sizes) busBandwidth["memcpy"][size].Add(((long)size << 20) / MemoryCopySeconds((long)size << 20) / 1e9);
        }

        Console.WriteLine();
        Console.WriteLine($"{"size",7} {"memcpy GB/s",12} {"shm busbw",10} {"shm-reg busbw",14} {"tcp busbw",10} {"gloo busbw",11} {"shm/memcpy",11} {"reg/memcpy",11} {"shm/gloo",9} {"shm/tcp",8}");
        foreach (var size in sizes)
        {
            double MedianOf(string t) => busBandwidth.TryGetValue(t, out var s) ? Median(s[size]) : double.NaN;
            double RatioMedian(string a, string b) => busBandwidth.ContainsKey(b)
                ? Median(busBandwidth[a][size].Zip(busBandwidth[b][size], (x, y) => x / y).ToList()) : double.NaN;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{size,4} MB {MedianOf("memcpy"),12:0.00} {MedianOf(SharedMemory),10:0.00} {MedianOf(SharedMemoryRegistered),14:0.00} {MedianOf(TcpRing),10:0.00} {MedianOf(Gloo),11:0.00} " +
                $"{RatioMedian(SharedMemory, "memcpy"),11:0.00} {RatioMedian(SharedMemoryRegistered, "memcpy"),11:0.00} {RatioMedian(SharedMemory, Gloo),9:0.00} {RatioMedian(SharedMemory, TcpRing),8:0.00}"));
        }
        Console.WriteLine("busbw in GB/s; ratios are medians of the per-round ratios. memcpy: one thread copying the same size in this process.");
        Console.WriteLine("shm copies an ordinary tensor through the segment; shm-reg (reg) sums a tensor in the registered regions in place.");
        return 0;
    }

    /// <summary>Runs one group of <paramref name="world"/> rank processes of this benchmark; returns rank 0's best seconds per size in bytes.</summary>
    static Dictionary<long, double> RunGroup(string transport, int world, int[] sizes, string gradParametersM)
    {
        var rendezvous = Path.Combine(Path.GetTempPath(), $"sd-allreduce-{Guid.NewGuid():N}");
        try
        {
            var ranks = Enumerable.Range(0, world).Select(rank => StartSelf("allreduce", "--child-rank", Invariant(rank), "--world", Invariant(world),
                "--rendezvous", rendezvous, "--transport", transport, "--sizes-mb", string.Join(',', sizes), "--grad-params-m", gradParametersM)).ToList();
            return Collect(ranks, transport);
        }
        finally
        {
            if (Directory.Exists(rendezvous)) Directory.Delete(rendezvous, recursive: true);
        }
    }

    static Dictionary<long, double> RunGloo(string interpreter, int world, int[] sizes)
    {
        var port = FreePort();
        var ranks = Enumerable.Range(0, world).Select(rank =>
        {
            var start = new ProcessStartInfo(interpreter) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[] { PythonPeer.FindScript(GlooScript), "--rank", Invariant(rank), "--world", Invariant(world), "--port", Invariant(port), "--sizes-mb", string.Join(',', sizes) })
                start.ArgumentList.Add(argument);
            start.Environment["OMP_NUM_THREADS"] = "1";
            return Process.Start(start)!;
        }).ToList();
        return Collect(ranks, Gloo);
    }

    /// <summary>Waits for every rank; rank 0's "BYTES SECONDS" lines are the result, its other lines are echoed.</summary>
    static Dictionary<long, double> Collect(List<Process> ranks, string transport)
    {
        var errors = ranks.Select(r => r.StandardError.ReadToEndAsync()).ToList();
        var others = ranks.Skip(1).Select(r => r.StandardOutput.ReadToEndAsync()).ToList();
        var seconds = new Dictionary<long, double>();
        while (ranks[0].StandardOutput.ReadLine() is { } line)
        {
            var fields = line.Split(' ');
            if (fields.Length == 2 && long.TryParse(fields[0], CultureInfo.InvariantCulture, out var bytes)) seconds[bytes] = double.Parse(fields[1], CultureInfo.InvariantCulture);
            else Console.WriteLine($"  {transport}: {line}");
        }
        foreach (var rank in ranks)
        {
            if (!rank.WaitForExit(TimeSpan.FromMinutes(10))) rank.Kill();
        }
        for (var i = 0; i < ranks.Count; i++)
        {
            if (ranks[i].ExitCode != 0)
                throw new InvalidOperationException($"{transport} rank {i} exited with {ranks[i].ExitCode}:\n{errors[i].Result}");
            ranks[i].Dispose();
        }
        Task.WaitAll(others);
        return seconds;
    }

    /// <summary>One rank: connects over the named transport, times the all-reduce of each size, and (rank 0) prints "BYTES SECONDS".</summary>
    static int RunRank(string[] args)
    {
        var rank = IntOption(args, "--child-rank", 0, allowZero: true);
        var world = IntOption(args, "--world", 2);
        var transport = Option(args, "--transport") ?? SharedMemory;
        var sizes = Option(args, "--sizes-mb")!.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var gradParametersM = double.Parse(Option(args, "--grad-params-m") ?? "0", CultureInfo.InvariantCulture);
        TorchRuntime.SetThreads(1);
        var registered = transport == SharedMemoryRegistered;
        // --advertise: ranks on other (simulated) nodes, reached at this address (bench/cross-node.sh).
        var advertise = Option(args, "--advertise");
        var options = new TcpRingOptions
        {
            BindAddress = advertise is null ? IPAddress.Loopback : IPAddress.Any,
            AdvertisedHost = advertise,
            SharedMemoryOnOneHost = transport is SharedMemory or SharedMemoryRegistered,
            // The copying row gets no regions, so its gradient sync copies too; the registered row gets room for every size and all gradient buckets.
            RegisteredBytes = registered ? RegionBytes(Math.Max((long)sizes.Max() << 20, (long)(gradParametersM * 1e6) * sizeof(float))) : 0,
            Timeout = TimeSpan.FromMinutes(2),
        };
        using var collective = Collectives.ConnectCpuAsync(rank, world, new FileRendezvous(Option(args, "--rendezvous")!), "bench", options).GetAwaiter().GetResult();
        if ((collective is SharedMemoryCollective) != options.SharedMemoryOnOneHost || registered && ((IRegisteredBuffers)collective).RegisteredBytes == 0)
            throw new InvalidOperationException($"asked for {transport}, connected {collective.GetType().Name}{(registered ? " without registered memory (is /dev/shm large enough?)" : "")}");
        foreach (var megabytes in sizes)
        {
            var bytes = (long)megabytes << 20;
            using var tensor = registered
                ? ((IRegisteredBuffers)collective).TryAllocateRegistered(ScalarType.Float32, bytes / sizeof(float))!.fill_(1)
                : ones(bytes / sizeof(float));
            var iterations = Math.Clamp((int)((512L << 20) / bytes), 3, 50);
            var best = double.MaxValue;
            for (var i = 0; i < iterations + 1; i++)
            {
                collective.Barrier();
                var watch = Stopwatch.StartNew();
                collective.AllReduceSum(tensor);
                if (i > 0) best = Math.Min(best, watch.Elapsed.TotalSeconds);
            }
            if (rank == 0) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{bytes} {best:0.#########}"));
        }
        if (gradParametersM > 0) GradientSync(collective, gradParametersM);
        return 0;
    }

    /// <summary>A registered region of at least <paramref name="bytes"/> plus room for alignment, in whole pages.</summary>
    static long RegionBytes(long bytes) => (bytes + (1 << 20) + 4095) / 4096 * 4096;

    /// <summary>Bucketed gradient all-reduce of a model-sized parameter set, overlap off and on, and what auto chooses (rank 0 prints).</summary>
    static void GradientSync(ICollective collective, double parametersM)
    {
        var total = (long)(parametersM * 1e6);
        // A UNet-like spread of tensor sizes: many small biases and norms, a few large convolutions.
        var sizes = new List<long>();
        for (long left = total, i = 0; left > 0; i++)
        {
            var size = Math.Min(left, i % 3 == 0 ? 256 : 40_000 + i * 9_000);
            sizes.Add(size);
            left -= size;
        }
        var parameters = sizes.Select(n => new Parameter(zeros(n))).ToList();
        using (var loss = stack(parameters.Select(p => p.sum()).ToList()).sum()) loss.backward();
        var timings = new Dictionary<bool, double>();
        foreach (var overlap in new[] { false, true })
        {
            using var synchronizer = new GradientSynchronizer(collective, new GradientSynchronizerOptions { Overlap = overlap ? GradientOverlap.On : GradientOverlap.Off });
            var best = double.MaxValue;
            for (var i = 0; i < 4; i++)
            {
                collective.Barrier();
                var watch = Stopwatch.StartNew();
                synchronizer.SynchronizeGradients(parameters);
                if (i > 0) best = Math.Min(best, watch.Elapsed.TotalSeconds);
            }
            timings[overlap] = best;
        }
        // What a training job's default (overlap: auto) chooses here, from its own trial (medians, mean over ranks).
        using var auto = new GradientSynchronizer(collective);
        while (auto.OverlapChoice is null) auto.SynchronizeGradients(parameters);
        if (collective.Rank == 0)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"gradient sync of {total / 1e6:0.0}M float32 parameters in {sizes.Count} tensors, 25 MB buckets: overlap off {timings[false] * 1e3:0.0} ms, on {timings[true] * 1e3:0.0} ms ({timings[false] / timings[true]:0.00}x); auto: {auto.OverlapChoice}"));
    }

    static double MemoryCopySeconds(long bytes)
    {
        var source = GC.AllocateUninitializedArray<byte>(checked((int)bytes), pinned: true);
        var target = GC.AllocateUninitializedArray<byte>(checked((int)bytes), pinned: true);
        source.AsSpan().Fill(1);
        target.AsSpan().Clear();
        var iterations = Math.Clamp((int)((512L << 20) / bytes), 3, 50);
        var best = double.MaxValue;
        for (var i = 0; i < iterations + 1; i++)
        {
            var watch = Stopwatch.StartNew();
            source.AsSpan().CopyTo(target);
            if (i > 0) best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>Starts this benchmark program again with <paramref name="arguments"/> (through the dotnet host when it runs as a dll).</summary>
    static Process StartSelf(params string[] arguments)
    {
        var host = Environment.ProcessPath!;
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(typeof(AllReduceBenchmark).Assembly.Location);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        return Process.Start(start)!;
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
