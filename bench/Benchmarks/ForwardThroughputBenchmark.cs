using System.Diagnostics;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;
using static SpectralDiffusion.Benchmarks.BenchmarkOptions;

namespace SpectralDiffusion.Benchmarks;

/// <summary>
/// Denoiser evaluations per second (samples through one forward pass, no grad) of the tiny teacher, Lite and SD presets
/// and of lite-ldm-ffhq vs sd-ffhq, all in one run, printed with the SD/Lite ratio (why SD should be faster: docs/method.md, wavelet gating).
/// </summary>
public static class ForwardThroughputBenchmark
{
    public static int Run(string[] args)
    {
        var batch = IntOption(args, "--batch", 16);
        var ffhqBatch = IntOption(args, "--ffhq-batch", 2);
        var seconds = IntOption(args, "--seconds", 4);
        TorchRuntime.EnsureLoaded();
        Console.WriteLine($"forward throughput: {get_num_threads()} threads, {seconds} s per preset, tiny batch {batch}, FFHQ batch {ffhqBatch}");
        // Round-robin over the presets, so load changes on a shared machine hit every preset alike.
        var runs = new[] { ("tiny-ldm", batch), ("tiny-lite-ldm", batch), ("tiny-sd", batch), ("lite-ldm-ffhq", ffhqBatch), ("sd-ffhq", ffhqBatch) }
            .Select(p => new PresetRun(p.Item1, p.Item2)).ToList();
        var clock = Stopwatch.StartNew();
        var rounds = 0;
        while (clock.Elapsed.TotalSeconds < seconds * runs.Count || rounds < 3)
        {
            foreach (var run in runs) run.Forward();
            rounds++;
        }
        var rates = runs.ToDictionary(r => r.Preset, r => r.EvaluationsPerSecond);
        foreach (var run in runs)
        {
            Console.WriteLine($"  {run.Preset,-16} batch {run.Batch,3}: {run.EvaluationsPerSecond,9:F1} evaluations/s");
            run.Dispose();
        }
        Console.WriteLine($"({rounds} interleaved rounds)");
        Console.WriteLine($"tiny SD / tiny Lite : {rates["tiny-sd"] / rates["tiny-lite-ldm"]:F2}x");
        Console.WriteLine($"tiny Lite / teacher : {rates["tiny-lite-ldm"] / rates["tiny-ldm"]:F2}x");
        Console.WriteLine($"sd-ffhq / lite-ffhq : {rates["sd-ffhq"] / rates["lite-ldm-ffhq"]:F2}x");
        return 0;
    }

    /// <summary>One preset's model and input; each <see cref="Forward"/> is one timed denoiser evaluation of the batch.</summary>
    sealed class PresetRun : IDisposable
    {
        readonly UNetModel model;
        readonly Tensor x, t;
        double seconds;
        long evaluations;

        public PresetRun(string preset, int batch)
        {
            Preset = preset;
            Batch = batch;
            var config = UNetPresets.Get(preset);
            model = new UNetModel(config);
            model.eval();
            x = randn(batch, config.InChannels, config.ImageSize, config.ImageSize);
            t = randint(0, 1000, new long[] { batch });
            using (no_grad())
            using (NewDisposeScope()) model.forward(x, t); // warm-up
        }

        public string Preset { get; }
        public int Batch { get; }
        public double EvaluationsPerSecond => evaluations / seconds;

        public void Forward()
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var watch = Stopwatch.StartNew();
            model.forward(x, t);
            seconds += watch.Elapsed.TotalSeconds;
            evaluations += Batch;
        }

        public void Dispose()
        {
            model.Dispose();
            x.Dispose();
            t.Dispose();
        }
    }
}
