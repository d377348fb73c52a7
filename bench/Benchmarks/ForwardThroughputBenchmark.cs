using System.Diagnostics;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Benchmarks;

/// <summary>
/// Denoiser evaluations per second (samples through one forward pass, no grad) of the tiny teacher, Lite and SD presets
/// and of lite-ldm-ffhq vs sd-ffhq, all in one run, printed with the SD/Lite ratio (NOTES.md: SD should be faster).
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
        var rates = new Dictionary<string, double>();
        foreach (var (preset, size) in new[] { ("tiny-ldm", batch), ("tiny-lite-ldm", batch), ("tiny-sd", batch), ("lite-ldm-ffhq", ffhqBatch), ("sd-ffhq", ffhqBatch) })
        {
            rates[preset] = EvaluationsPerSecond(preset, size, seconds);
            Console.WriteLine($"  {preset,-16} batch {size,3}: {rates[preset],9:F1} evaluations/s");
        }
        Console.WriteLine($"tiny SD / tiny Lite : {rates["tiny-sd"] / rates["tiny-lite-ldm"]:F2}x");
        Console.WriteLine($"tiny Lite / teacher : {rates["tiny-lite-ldm"] / rates["tiny-ldm"]:F2}x");
        Console.WriteLine($"sd-ffhq / lite-ffhq : {rates["sd-ffhq"] / rates["lite-ldm-ffhq"]:F2}x");
        return 0;
    }

    static double EvaluationsPerSecond(string preset, int batch, int seconds)
    {
        var config = UNetPresets.Get(preset);
        using var model = new UNetModel(config);
        model.eval();
        using var _ = no_grad();
        var x = randn(batch, config.InChannels, config.ImageSize, config.ImageSize);
        var t = randint(0, 1000, new long[] { batch });
        for (var i = 0; i < 2; i++) using (NewDisposeScope()) model.forward(x, t); // warm-up
        var watch = Stopwatch.StartNew();
        var evaluations = 0;
        while (watch.Elapsed.TotalSeconds < seconds || evaluations == 0)
        {
            using (NewDisposeScope()) model.forward(x, t);
            evaluations += batch;
        }
        return evaluations / watch.Elapsed.TotalSeconds;
    }

    static int IntOption(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        if (index < 0) return fallback;
        if (index + 1 >= args.Length || !int.TryParse(args[index + 1], out var value) || value <= 0)
            throw new ArgumentException($"{name} needs a positive integer");
        return value;
    }
}
