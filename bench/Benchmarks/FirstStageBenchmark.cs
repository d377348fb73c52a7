using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Jobs;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using SpectralDiffusion.Worker.Training;
using TorchSharp.PyBridge;
using static TorchSharp.torch;
using static SpectralDiffusion.Benchmarks.BenchmarkOptions;

namespace SpectralDiffusion.Benchmarks;

/// <summary>
/// Two figures for latent diffusion, each a ratio within one run:
/// <list type="number">
/// <item>encoder throughput (images/s) of a first stage at 256×256, TorchSharp against the CompVis modules in PyTorch on
/// the same weights (bench/peer/first_stage_encode.py), in alternating rounds;</item>
/// <item>the training-epoch speed-up from the latent cache: tiny-ldm on tiny-kl latents of 64×64 images, one epoch
/// encoding every batch against one epoch reading the cache (built beforehand, not timed), alternating.</item>
/// </list>
/// </summary>
public static class FirstStageBenchmark
{
    public static int Run(string[] args)
    {
        TorchRuntime.EnsureLoaded();
        if (Option(args, "--threads") is not null) TorchRuntime.SetThreads(IntOption(args, "--threads", 1));
        Console.WriteLine($"first-stage benchmark: {CpuModel()}, {get_num_threads()} threads, load average {LoadAverage()} (a shared machine varies run to run)");
        var status = EncoderThroughput(args);
        CacheSpeedup(args);
        Console.WriteLine($"load average after: {LoadAverage()}");
        return status;
    }

    static int EncoderThroughput(string[] args)
    {
        var config = Option(args, "--config") ?? "vq-f4";
        var (batch, size, batches, rounds) = (IntOption(args, "--batch", 2), IntOption(args, "--size", 256), IntOption(args, "--batches", 2), IntOption(args, "--rounds", 3));
        var interpreter = Option(args, "--python") ?? PythonPeer.DefaultInterpreter;
        manual_seed(0);
        using var model = new Autoencoder(AutoencoderPresets.Get(config));
        model.eval();
        var weights = Path.Combine(Path.GetTempPath(), $"sd-first-stage-{Guid.NewGuid():N}.pth");
        PyTorchPickler.PickleStateDict(weights, model.state_dict().ToDictionary(p => p.Key, p => p.Value));
        var script = Path.Combine(AppContext.BaseDirectory, "peer", "first_stage_encode.py");
        if (!File.Exists(script)) script = Path.GetFullPath(Path.Combine("bench", "peer", "first_stage_encode.py"));
        try
        {
            using var x = rand(batch, 3, size, size) * 2 - 1;
            using (no_grad()) model.Moments(x).Dispose();   // warm-up
            var (ours, theirs, ratios) = (new List<double>(), new List<double>(), new List<double>());
            Console.WriteLine($"encoder {config} at {size}x{size}, batch {batch}: {rounds} alternating rounds of {batches} batches");
            for (var round = 1; round <= rounds; round++)
            {
                var torchSharp = new List<double>();
                for (var i = 0; i < batches; i++)
                {
                    var watch = Stopwatch.StartNew();
                    using (no_grad()) model.Moments(x).Dispose();
                    torchSharp.Add(batch / watch.Elapsed.TotalSeconds);
                }
                var pyTorch = RunPeer(interpreter, script, config, weights, batch, size, batches);
                if (pyTorch is null) return 2;
                ours.AddRange(torchSharp);
                theirs.AddRange(pyTorch.Select(s => batch / s));
                ratios.Add(Median(torchSharp) / Median(pyTorch.Select(s => batch / s).ToList()));
                Console.WriteLine($"  round {round}: TorchSharp {Median(torchSharp):F2} images/s   PyTorch {Median(pyTorch.Select(s => batch / s).ToList()):F2} images/s");
            }
            Console.WriteLine($"encoder throughput: TorchSharp {Median(ours):F2} images/s, PyTorch {Median(theirs):F2} images/s; " +
                              $"ratio TorchSharp/PyTorch {Median(ratios):F3} (median of per-round ratios)");
            return 0;
        }
        finally
        {
            File.Delete(weights);
        }
    }

    static List<double>? RunPeer(string interpreter, string script, string config, string weights, int batch, int size, int batches)
    {
        var start = new ProcessStartInfo(interpreter) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { script, config, weights, Invariant(batch), Invariant(size), Invariant(batches), Invariant(get_num_threads()) })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            Console.Error.WriteLine($"{interpreter} {script} failed (Debian's python3-torch is needed; --python names another):\n{error.Result}");
            return null;
        }
        using var json = JsonDocument.Parse(output);
        return json.RootElement.GetProperty("seconds").EnumerateArray().Select(s => s.GetDouble()).ToList();
    }

    static void CacheSpeedup(string[] args)
    {
        var (images, batch, rounds) = (IntOption(args, "--epoch-images", 32), IntOption(args, "--epoch-batch", 8), IntOption(args, "--rounds", 3));
        manual_seed(1);
        using var firstStage = new LatentSpace(new Autoencoder(AutoencoderPresets.TinyKl()), "tiny-kl", 1.0);
        var dataset = new ProceduralTextureDataset(images, 64, seed: 2);
        var cacheRoot = Path.Combine(Path.GetTempPath(), $"sd-latent-cache-{Guid.NewGuid():N}");
        try
        {
            var (moments, labels) = new LatentCache(cacheRoot, Serilog.Core.Logger.None).GetOrBuild(
                new LatentCache.Key("procedural seed=2", "tiny-kl random", "64px"), dataset, firstStage.Autoencoder.Moments);
            using var model = new UNetModel(UNetPresets.TinyLdm());
            var options = new TrainerOptions { Steps = 1_000_000, BatchSize = batch, Seed = 3, LearningRate = 1e-4 };
            using var trainer = new DiffusionTrainer(new DdpmObjective(model, NoiseSchedule.LdmLinear()), NoiseSchedule.LdmLinear(), options, null);
            var steps = images / batch;
            double Epoch(ITrainingBatches batches)
            {
                var watch = Stopwatch.StartNew();
                for (var i = 0; i < steps; i++)
                {
                    using var scope = NewDisposeScope();
                    var (latents, _) = batches.Next();
                    trainer.TrainStep(latents, Conditioning.None);
                }
                return watch.Elapsed.TotalSeconds;
            }
            Console.WriteLine($"training epoch: tiny-ldm on tiny-kl latents of {images} images of 64x64, batch {batch} ({steps} steps), {rounds} alternating rounds");
            var ratios = new List<double>();
            for (var round = 1; round <= rounds; round++)
            {
                using var encoded = new LatentBatches(new LoaderBatches(dataset, batch, 3, 1, 0, 0, false, model.Config), firstStage, 3, 0, 1, 0);
                var encoding = Epoch(encoded);
                var cached = Epoch(new CachedLatentBatches(moments.clone(), labels.clone(), firstStage, batch, 3, 1, 0, 0, false));
                ratios.Add(encoding / cached);
                Console.WriteLine($"  round {round}: encoding every batch {encoding:F2} s   from the cache {cached:F2} s   speed-up {encoding / cached:F2}x");
            }
            Console.WriteLine($"latent cache speed-up of a training epoch: {Median(ratios):F2}x (median of per-round ratios)");
        }
        finally
        {
            if (Directory.Exists(cacheRoot)) Directory.Delete(cacheRoot, recursive: true);
        }
    }

    static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    static string CpuModel() => File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU"
        : "unknown CPU";
}
