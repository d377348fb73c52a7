using System.Diagnostics;
using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Benchmarks;

/// <summary>
/// Resident memory over thousands of distillation steps (one dispose scope per step must keep it flat): a tiny teacher and
/// SD student at 16×16, printing the process's RSS every interval and the ratio of the last to the first reading after warm-up.
/// </summary>
public static class TrainingMemoryBenchmark
{
    public static int Run(string[] args)
    {
        var steps = args.Length > 0 && int.TryParse(args[0], out var s) && s > 0 ? s : 2000;
        TorchRuntime.EnsureLoaded();
        manual_seed(1);
        var config = UNetPresets.TinySd() with { ImageSize = 16, ChannelMult = [1, 2], NumResBlocks = 1, AttentionResolutions = [] };
        using var teacher = new UNetModel(config with { ModelChannels = 32, WaveletGating = false });
        using var student = new UNetModel(config);
        var schedule = NoiseSchedule.LdmLinear();
        using var objective = new DistillationObjective(teacher, student, new SpectralDistillationLoss(new DistillationWeights()), schedule);
        using var trainer = new DiffusionTrainer(objective, schedule, new TrainerOptions { Steps = steps, BatchSize = 8, LearningRate = 1e-3 });
        using var images = rand(8, 3, 16, 16) * 2 - 1;
        var interval = Math.Max(1, steps / 8);
        long? baseline = null;
        long last = 0;
        var clock = Stopwatch.StartNew();
        var allocatedBefore = GC.GetTotalAllocatedBytes();
        for (var step = 1; step <= steps; step++)
        {
            trainer.TrainStep(images, Conditioning.None);
            if (step % interval != 0) continue;
            using var process = Process.GetCurrentProcess();
            last = process.WorkingSet64;
            baseline ??= last;
            Console.WriteLine($"step {step,6}: RSS {last / (1 << 20),6} MiB  managed heap {GC.GetTotalMemory(false) / (1 << 20),4} MiB  " +
                              $"{(GC.GetTotalAllocatedBytes() - allocatedBefore) / step / 1024} KiB allocated a step  ({step / clock.Elapsed.TotalSeconds:F1} steps/s)");
        }
        Console.WriteLine($"RSS last / first reading (after {interval} warm-up steps): {(double)last / baseline!.Value:F3}");
        return 0;
    }
}
