using System.Diagnostics;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;
using static SpectralDiffusion.Benchmarks.BenchmarkOptions;

namespace SpectralDiffusion.Benchmarks;

/// <summary>
/// The cost and the effect of routing convolutions around oneDNN's uninitialised-padding fault: one forward + backward
/// pass of the tiny teacher and the tiny SD student with <see cref="ChannelAlignedConvolution"/> on and off, interleaved
/// step by step after poisoning freed memory with NaN, timed (min/median/max, aligned/plain ratio of medians) and checked
/// for non-finite gradients.
/// </summary>
public static class ConvolutionAlignmentBenchmark
{
    public static int Run(string[] args)
    {
        var batch = IntOption(args, "--batch", 16);
        var steps = IntOption(args, "--steps", 20);
        TorchRuntime.EnsureLoaded();
        if (IntOption(args, "--threads", 0, allowZero: true) is > 0 and var threads) TorchRuntime.SetThreads(threads);
        Console.WriteLine($"conv alignment: {CpuDescription.Describe()}; {get_num_threads()} torch threads; batch {batch}, {steps} interleaved steps per mode");
        foreach (var preset in new[] { "tiny-ldm", "tiny-sd" })
        {
            manual_seed(1);
            using var model = new UNetModel(UNetPresets.Get(preset));
            var config = model.Config;
            using var x = randn(batch, config.InChannels, config.ImageSize, config.ImageSize);
            using var t = randint(0, 1000, new long[] { batch });
            using var noise = randn(x.shape);
            var aligned = new Mode("aligned");
            var plain = new Mode("plain");
            Step(model, x, t, noise); // warm-up
            for (var i = 0; i < steps; i++)
                foreach (var mode in i % 2 == 0 ? new[] { aligned, plain } : new[] { plain, aligned })
                {
                    ChannelAlignedConvolution.Enabled = mode == aligned;
                    ConvolutionSelfCheck.PoisonFreedMemory();
                    var clock = Stopwatch.StartNew();
                    var finite = Step(model, x, t, noise);
                    mode.Record(clock.Elapsed.TotalMilliseconds, finite);
                }
            ChannelAlignedConvolution.Enabled = true;
            Console.WriteLine($"  {preset}");
            foreach (var mode in new[] { aligned, plain }) Console.WriteLine($"    {mode}");
            Console.WriteLine($"    aligned / plain step time (medians): {aligned.Median / plain.Median:F3}x");
        }
        return 0;
    }

    /// <summary>One forward + backward pass; true when every gradient is finite.</summary>
    static bool Step(UNetModel model, Tensor x, Tensor t, Tensor noise)
    {
        using var scope = NewDisposeScope();
        model.zero_grad();
        nn.functional.mse_loss(model.forward(x, t), noise).backward();
        return model.parameters().All(p => p.grad is null || p.grad.isfinite().all().item<bool>());
    }

    sealed class Mode(string name)
    {
        readonly List<double> milliseconds = [];
        int nonFinite;

        public double Median => milliseconds.Order().ElementAt(milliseconds.Count / 2);

        public void Record(double elapsed, bool finite)
        {
            milliseconds.Add(elapsed);
            if (!finite) nonFinite++;
        }

        public override string ToString() =>
            $"{name,-8} ms/step min {milliseconds.Min(),7:F1}  median {Median,7:F1}  max {milliseconds.Max(),7:F1}   non-finite gradients: {nonFinite} of {milliseconds.Count} steps";
    }
}
