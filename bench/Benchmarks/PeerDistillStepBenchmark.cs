using SpectralDiffusion.Worker.Models;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SpectralDiffusion.Worker.Torch;
using SpectralDiffusion.Worker.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static SpectralDiffusion.Benchmarks.BenchmarkOptions;
using static SpectralDiffusion.Benchmarks.Measurements;

namespace SpectralDiffusion.Benchmarks;

/// <summary>
/// One spectrum-aware distillation step (tiny-ldm teacher forward, tiny-sd student forward and backward, AdamW, LitEma) in
/// TorchSharp (<see cref="DiffusionTrainer.TrainStep"/>) against the same networks, weights and loss in PyTorch
/// (bench/peer/distill_step.py under Debian's python3-torch), in alternating rounds with the same threads and batch.
/// Before timing, both sides compute the loss terms on one saved input: they must agree within 1e-4.
/// </summary>
public static class PeerDistillStepBenchmark
{
    public static int Run(string[] args)
    {
        var batch = IntOption(args, "--batch", 32);
        var steps = IntOption(args, "--steps", 3);
        var rounds = IntOption(args, "--rounds", 6);
        var warmup = IntOption(args, "--warmup", 2);
        var interpreter = Option(args, "--python") ?? PythonPeer.DefaultInterpreter;
        if (PythonPeer.WhyUnavailable(interpreter) is { } reason)
        {
            Console.Error.WriteLine($"peer-distill-step needs PyTorch: {reason}.\n" +
                "Install Debian's build: apt-get install --no-install-recommends python3-torch (or point --python / SD_PYTHON at a python with torch).");
            return 2;
        }
        TorchRuntime.EnsureLoaded();
        if (Option(args, "--threads") is not null) TorchRuntime.SetThreads(IntOption(args, "--threads", 1));
        var threads = get_num_threads();
        var interop = IntOption(args, "--interop-threads", 0, allowZero: true);
        if (interop > 0) set_num_interop_threads(interop);
        var totalSteps = warmup + steps * rounds + (args.Contains("--phases") ? steps * rounds : 0);

        using var pair = new PeerDistillation(batch, seed: 0, totalSteps);
        var weights = Path.Combine(Path.GetTempPath(), $"sd-peer-{Guid.NewGuid():N}.safetensors");
        pair.WriteWeights(weights);
        PythonPeer peer;
        try
        {
            peer = PythonPeer.Start(interpreter, "--weights", weights, "--batch", Invariant(batch), "--threads", Invariant(threads),
                "--interop-threads", Invariant(interop), "--total-steps", Invariant(totalSteps), "--seed", "0");
        }
        finally
        {
            File.Delete(weights);
        }
        using (peer)
        {
            Console.WriteLine($"peer distillation step: tiny-ldm teacher -> tiny-sd student, batch {batch} of 3x{PeerDistillation.ImageSize}x{PeerDistillation.ImageSize}, " +
                $"{threads} threads (PyTorch {peer.Ready.GetProperty("torch").GetString()}: {peer.Ready.GetProperty("threads").GetInt32()}), " +
                $"{rounds} alternating rounds of {steps} steps after {warmup} warm-up steps; load average {LoadAverage()}");
            if (!SameNetworksAndLoss(pair, peer)) return 1;

            TimeTorchSharp(pair, warmup);
            peer.Send($"steps {warmup}");
            var ours = new List<double>();
            var theirs = new List<double>();
            var roundRatios = new List<double>();
            for (var round = 1; round <= rounds; round++)
            {
                var torchSharp = TimeTorchSharp(pair, steps);
                var pyTorch = peer.Send($"steps {steps}").GetProperty("seconds").EnumerateArray().Select(s => s.GetDouble()).ToList();
                ours.AddRange(torchSharp);
                theirs.AddRange(pyTorch);
                roundRatios.Add(Median(torchSharp) / Median(pyTorch));
                Console.WriteLine($"  round {round}: TorchSharp {Median(torchSharp) * 1e3,7:F1} ms/step   PyTorch {Median(pyTorch) * 1e3,7:F1} ms/step");
            }
            Console.WriteLine($"TorchSharp {Median(ours) * 1e3:F1} ms/step (min {ours.Min() * 1e3:F1}), PyTorch {Median(theirs) * 1e3:F1} ms/step (min {theirs.Min() * 1e3:F1}); medians of {ours.Count} steps each");
            // Adjacent rounds see similar machine load, so the median of per-round ratios is the robust figure on a shared machine.
            Console.WriteLine($"ratio TorchSharp/PyTorch: {Median(roundRatios):F3} (median of per-round ratios; min {roundRatios.Min():F3}, max {roundRatios.Max():F3} over {rounds} rounds), " +
                $"{Median(ours) / Median(theirs):F3} (medians), {ours.Min() / theirs.Min():F3} (fastest steps); load average after: {LoadAverage()}");
            if (args.Contains("--phases")) PrintPhases(pair, peer, steps * rounds);
        }
        return 0;
    }

    /// <summary>Parameter counts and the four loss terms on the saved check input must agree; prints both.</summary>
    static bool SameNetworksAndLoss(PeerDistillation pair, PythonPeer peer)
    {
        var (ourCounts, theirCounts) = (pair.ParameterCounts, peer.ParameterCounts);
        Console.WriteLine("  parameters  " + string.Join("  ", ourCounts.Select(c => $"{c.Key} {c.Value:N0} / {theirCounts.GetValueOrDefault(c.Key):N0}")) + "  (TorchSharp / PyTorch)");
        var (ourLosses, theirLosses) = (pair.CheckLosses(), peer.CheckLosses);
        Console.WriteLine("  check loss  " + string.Join("  ", ourLosses.Select(l => $"{l.Key} {l.Value:F6} / {theirLosses.GetValueOrDefault(l.Key):F6}")));
        var countsDiffer = ourCounts.Any(c => theirCounts.GetValueOrDefault(c.Key) != c.Value);
        var lossesDiffer = PeerDistillation.LossMismatches(ourLosses, theirLosses);
        if (countsDiffer) Console.Error.WriteLine($"{PythonPeer.ScriptPath} builds different networks: parameter counts differ");
        if (lossesDiffer.Count > 0) Console.Error.WriteLine($"{PythonPeer.ScriptPath} computes a different loss: {string.Join(", ", lossesDiffer)} differ by more than {PeerDistillation.LossTolerance}");
        return !countsDiffer && lossesDiffer.Count == 0;
    }

    static List<double> TimeTorchSharp(PeerDistillation pair, int steps)
    {
        var seconds = new List<double>(steps);
        for (var i = 0; i < steps; i++)
        {
            var watch = Stopwatch.StartNew();
            pair.Trainer.TrainStep(pair.Images, Conditioning.None);
            seconds.Add(watch.Elapsed.TotalSeconds);
        }
        return seconds;
    }

    /// <summary>
    /// Where the time goes: the step of <see cref="DiffusionTrainer.TrainStep"/> split into draw, forward and loss (teacher and
    /// student), backward, and clipping + AdamW + EMA, one step on each side in turn; medians per phase. This copy of the step
    /// uses its own optimiser and EMA.
    /// </summary>
    static void PrintPhases(PeerDistillation pair, PythonPeer peer, int steps)
    {
        var parameters = pair.Objective.TrainableParameters.Select(p => p.Parameter).ToList();
        using var optimizer = optim.AdamW(parameters, 2e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0);
        using var ema = new ExponentialMovingAverage(pair.Student);
        var ours = new Dictionary<string, List<double>>();
        var theirs = new Dictionary<string, List<double>>();
        var watch = new Stopwatch();
        void Lap(string phase)
        {
            (ours.TryGetValue(phase, out var list) ? list : ours[phase] = []).Add(watch.Elapsed.TotalSeconds);
            watch.Restart();
        }
        for (var step = 0; step < steps; step++)
        {
            using (var scope = NewDisposeScope())
            {
                watch.Restart();
                using var generator = new Generator((ulong)SpectralDiffusion.Worker.Data.SeedMixer.StepSeed(0, step));
                var timesteps = randint(0, 1000, new long[] { pair.Images.shape[0] }, dtype: ScalarType.Int64, generator: generator);
                var noise = randn(pair.Images.shape, generator: generator);
                Lap("draw");
                var losses = pair.Objective.Loss(pair.Images, Conditioning.None, timesteps, noise);
                foreach (var loss in losses.Values) loss.item<float>();
                Lap("forward_and_loss");
                optimizer.zero_grad();
                losses["loss"].backward();
                Lap("backward");
                nn.utils.clip_grad_norm_(parameters, 1.0);
                optimizer.step();
                ema.Update();
                Lap("optimizer_and_ema");
            }
            foreach (var phase in peer.Send("phases 1").GetProperty("phases").EnumerateObject())
                (theirs.TryGetValue(phase.Name, out var list) ? list : theirs[phase.Name] = []).Add(phase.Value.GetDouble());
        }
        Console.WriteLine($"phases (median ms/step of {steps} alternating steps):   TorchSharp   PyTorch   ratio");
        foreach (var (phase, seconds) in ours)
        {
            var (our, their) = (Median(seconds), Median(theirs[phase]));
            Console.WriteLine($"  {phase,-20} {our * 1e3,10:F1} {their * 1e3,9:F1} {our / their,7:F2}");
        }
    }

    static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
