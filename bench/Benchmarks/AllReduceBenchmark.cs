using System.Diagnostics;
using System.Runtime.InteropServices;
using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Benchmarks;

/// <summary>
/// Ring all-reduce bus bandwidth of the tcp backend on loopback, 2 ranks as threads of this process (real TCP sockets),
/// against a plain memory copy of the same size measured in the same run; then gradient synchronisation with and
/// without bucket overlap. Bus bandwidth follows nccl-tests: bytes × 2(W−1)/W ÷ time.
/// </summary>
public static class AllReduceBenchmark
{
    const int World = 2;

    public static int Run(string[] args)
    {
        var sizesMb = Option(args, "--sizes-mb", "1,4,16,64,256").Split(',').Select(int.Parse).ToArray();
        var parametersM = double.Parse(Option(args, "--grad-params-m", "22.4"), System.Globalization.CultureInfo.InvariantCulture);
        TorchRuntime.EnsureLoaded();
        Console.WriteLine($"all-reduce (tcp ring), {World} ranks as threads in one process over 127.0.0.1, float32; {Environment.ProcessorCount} cores, torch threads {get_num_threads()}");
        using var group = Group.Connect(World);

        Console.WriteLine($"{"size",8} {"memcpy GB/s",12} {"ring busbw GB/s",16} {"ratio",7} {"via managed copy GB/s",22} {"ms/op",8}");
        foreach (var megabytes in sizesMb)
        {
            var bytes = (long)megabytes << 20;
            var iterations = Math.Clamp((int)(512L << 20) / (int)Math.Min(bytes, int.MaxValue), 3, 50);
            var copySeconds = MemoryCopySeconds(bytes, iterations);
            var ringSeconds = group.Time(iterations, (ring, tensor) => ring.AllReduceSum(tensor), bytes);
            var viaCopySeconds = megabytes <= 64 ? group.Time(Math.Max(3, iterations / 2), AllReduceViaManagedCopy, bytes) : double.NaN;
            var busBytes = bytes * 2.0 * (World - 1) / World;
            Console.WriteLine($"{megabytes,5} MB {bytes / copySeconds / 1e9,12:0.00} {busBytes / ringSeconds / 1e9,16:0.00} {copySeconds / ringSeconds,7:0.000} " +
                              $"{(double.IsNaN(viaCopySeconds) ? "(skipped)" : (busBytes / viaCopySeconds / 1e9).ToString("0.00")),22} {ringSeconds * 1e3,8:0.0}");
        }
        Console.WriteLine("ratio = ring bus bandwidth / memcpy bandwidth; 'via managed copy' copies the tensor into a float[] and back around the same ring.");

        if (parametersM > 0) GradientSync(group, parametersM);
        return 0;
    }

    /// <summary>The alternative to working on the tensor's memory: copy it out to a managed array, reduce that, copy back.</summary>
    static void AllReduceViaManagedCopy(TcpRingCollective ring, Tensor tensor)
    {
        var values = new float[tensor.NumberOfElements];
        tensor.bytes.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        ring.AllReduceSum<float>(values);
        MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(tensor.bytes);
    }

    static double MemoryCopySeconds(long bytes, int iterations)
    {
        var source = GC.AllocateUninitializedArray<byte>(checked((int)bytes), pinned: true);
        var target = GC.AllocateUninitializedArray<byte>(checked((int)bytes), pinned: true);
        source.AsSpan().Fill(1);
        target.AsSpan().Clear();
        var best = double.MaxValue;
        for (var i = 0; i < iterations + 1; i++)
        {
            var watch = Stopwatch.StartNew();
            source.AsSpan().CopyTo(target);
            if (i > 0) best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>Bucketed gradient all-reduce of a model-sized parameter set, overlap off and on.</summary>
    static void GradientSync(Group group, double parametersM)
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
        Console.WriteLine();
        Console.WriteLine($"gradient synchronisation: {total / 1e6:0.0}M float32 parameters in {sizes.Count} tensors, 25 MB buckets, {World} ranks");
        var timings = new Dictionary<bool, double>();
        foreach (var overlap in new[] { false, true })
        {
            var perRank = group.Ranks.Select(ring =>
            {
                var parameters = sizes.Select(n => new Parameter(zeros(n))).ToList();
                using (var loss = stack(parameters.Select(p => p.sum()).ToList()).sum()) loss.backward();
                return (Synchronizer: new GradientSynchronizer(ring, new GradientSynchronizerOptions { OverlapBuckets = overlap }), Parameters: parameters);
            }).ToArray();
            timings[overlap] = group.Time(5, ring => perRank[ring.Rank].Synchronizer.SynchronizeGradients(perRank[ring.Rank].Parameters));
            Console.WriteLine($"  overlap {(overlap ? "on " : "off")}: {timings[overlap] * 1e3,8:0.0} ms per step");
        }
        Console.WriteLine($"  overlap speed-up: {timings[false] / timings[true]:0.00}x");
    }

    static string Option(string[] args, string name, string fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
    }

    sealed class Group : IDisposable
    {
        readonly string directory;

        Group(string directory, TcpRingCollective[] ranks) => (this.directory, Ranks) = (directory, ranks);

        public TcpRingCollective[] Ranks { get; }

        public static Group Connect(int world)
        {
            var directory = Path.Combine(Path.GetTempPath(), $"sd-bench-{Guid.NewGuid():N}");
            var rendezvous = new FileRendezvous(directory);
            var ranks = Task.WhenAll(Enumerable.Range(0, world).Select(rank => Task.Run(() => TcpRingCollective.ConnectAsync(rank, world, rendezvous, "bench")))).GetAwaiter().GetResult();
            return new Group(directory, ranks);
        }

        /// <summary>Best wall time of one operation run on all ranks at once (each rank has its own tensor of <paramref name="bytes"/>).</summary>
        public double Time(int iterations, Action<TcpRingCollective, Tensor> operation, long bytes)
        {
            var tensors = Ranks.Select(_ => ones(bytes / sizeof(float))).ToArray();
            try
            {
                return Time(iterations, ring => operation(ring, tensors[ring.Rank]));
            }
            finally
            {
                foreach (var tensor in tensors) tensor.Dispose();
            }
        }

        public double Time(int iterations, Action<TcpRingCollective> operation)
        {
            var best = double.MaxValue;
            for (var i = 0; i < iterations + 1; i++)
            {
                using var start = new Barrier(Ranks.Length);
                var watch = new Stopwatch();
                var threads = Ranks.Select(ring => new Thread(() =>
                {
                    if (start.SignalAndWait(TimeSpan.FromMinutes(1)) && ring.Rank == 0) watch.Start();
                    operation(ring);
                })).ToList();
                threads.ForEach(t => t.Start());
                threads.ForEach(t => t.Join());
                watch.Stop();
                if (i > 0) best = Math.Min(best, watch.Elapsed.TotalSeconds);
            }
            return best;
        }

        public void Dispose()
        {
            foreach (var ring in Ranks) ring.Dispose();
            Directory.Delete(directory, recursive: true);
        }
    }
}
