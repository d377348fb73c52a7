using System.Diagnostics;
using System.Text.Json;
using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Benchmarks;

/// <summary>
/// The TorchSharp side of the peer benchmark: the tiny-ldm teacher, the tiny-sd student and the default distillation
/// objective and trainer, with a fixed batch and a check input (x0, t, noise) whose loss terms PyTorch must reproduce.
/// </summary>
public sealed class PeerDistillation : IDisposable
{
    public const int ImageSize = 32;
    /// <summary>Absolute tolerance (scaled by max(1, |loss|)) of the first-step loss terms between TorchSharp and PyTorch.</summary>
    public const double LossTolerance = 1e-4;

    readonly NoiseSchedule schedule = NoiseSchedule.LdmLinear();

    public PeerDistillation(int batch, long seed, long totalSteps)
    {
        manual_seed(seed);
        Teacher = new UNetModel(UNetPresets.TinyLdm());
        Student = new UNetModel(UNetPresets.TinySd());
        // Zero-initialised output convs make fresh networks output 0 and pass their ResBlocks through; perturb every
        // weight so that the loss check exercises every layer, as a trained pair would.
        using (no_grad())
            foreach (var parameter in Teacher.parameters().Concat(Student.parameters()))
                parameter.add_(randn_like(parameter) * 0.05);
        Objective = new DistillationObjective(Teacher, Student, new SpectralDistillationLoss(new DistillationWeights()), schedule);
        Trainer = new DiffusionTrainer(Objective, schedule, new TrainerOptions { Steps = totalSteps, BatchSize = batch, Seed = seed });
        Images = rand(batch, 3, ImageSize, ImageSize) * 2 - 1;
        CheckTimesteps = randint(0, schedule.Timesteps, new long[] { batch });
        CheckNoise = randn(batch, 3, ImageSize, ImageSize);
    }

    public UNetModel Teacher { get; }
    public UNetModel Student { get; }
    public DistillationObjective Objective { get; }
    public DiffusionTrainer Trainer { get; }
    /// <summary>The clean batch every timed step trains on (random images in [-1, 1]).</summary>
    public Tensor Images { get; }
    public Tensor CheckTimesteps { get; }
    public Tensor CheckNoise { get; }

    public IReadOnlyDictionary<string, long> ParameterCounts => new Dictionary<string, long>
    {
        ["teacher"] = ModelStatistics.CountParameters(Teacher),
        ["student"] = ModelStatistics.CountParameters(Student),
        ["aligners"] = ModelStatistics.CountParameters(Objective.Aligners),
    };

    /// <summary>The loss terms on the check input (x0 = <see cref="Images"/>, <see cref="CheckTimesteps"/>, <see cref="CheckNoise"/>).</summary>
    public IReadOnlyDictionary<string, double> CheckLosses()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return Objective.Loss(Images, Conditioning.None, CheckTimesteps, CheckNoise).ToDictionary(l => l.Key, l => (double)l.Value.item<float>());
    }

    /// <summary>Writes teacher.*, student.*, aligners.* (CompVis names) and the check input for distill_step.py --weights.</summary>
    public void WriteWeights(string path)
    {
        var tensors = new Dictionary<string, Tensor> { ["x0"] = Images, ["t"] = CheckTimesteps, ["noise"] = CheckNoise };
        foreach (var (prefix, module) in new (string, nn.Module)[] { ("teacher.", Teacher), ("student.", Student), ("aligners.", Objective.Aligners) })
            foreach (var (name, tensor) in module.state_dict())
                tensors[prefix + name] = tensor;
        SafetensorsFile.Write(path, tensors);
    }

    /// <summary>Names of the loss terms whose PyTorch value differs from ours by more than <see cref="LossTolerance"/>.</summary>
    public static IReadOnlyList<string> LossMismatches(IReadOnlyDictionary<string, double> ours, IReadOnlyDictionary<string, double> theirs) =>
        ours.Where(o => !theirs.TryGetValue(o.Key, out var value) || !(Math.Abs(value - o.Value) <= LossTolerance * Math.Max(1, Math.Abs(o.Value))))
            .Select(o => o.Key).ToList();

    public void Dispose()
    {
        Trainer.Dispose();
        Objective.Dispose();
        Teacher.Dispose();
        Student.Dispose();
        Images.Dispose();
        CheckTimesteps.Dispose();
        CheckNoise.Dispose();
    }
}

/// <summary>bench/peer/distill_step.py running under a Python with torch: one JSON line per command over stdin/stdout.</summary>
public sealed class PythonPeer : IDisposable
{
    public const string ScriptPath = "bench/peer/distill_step.py";

    readonly Process process;
    readonly Task<string> errors;

    PythonPeer(Process process, JsonElement ready)
    {
        this.process = process;
        errors = process.StandardError.ReadToEndAsync();
        Ready = ready;
    }

    /// <summary>The first line: torch version, threads, parameter counts, taps and (with weights) the check loss terms.</summary>
    public JsonElement Ready { get; }

    public IReadOnlyDictionary<string, long> ParameterCounts =>
        Ready.GetProperty("params").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());

    public IReadOnlyDictionary<string, double> CheckLosses =>
        Ready.GetProperty("loss").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());

    /// <summary>The interpreter: SD_PYTHON, else Debian's /usr/bin/python3 (the python on PATH may not see python3-torch).</summary>
    public static string DefaultInterpreter => Environment.GetEnvironmentVariable("SD_PYTHON") is { Length: > 0 } path ? path : "/usr/bin/python3";

    /// <summary>Why <paramref name="interpreter"/> cannot run the peer, or null when it imports torch.</summary>
    public static string? WhyUnavailable(string interpreter)
    {
        if (!File.Exists(interpreter)) return $"{interpreter} does not exist";
        var start = new ProcessStartInfo(interpreter) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import torch");
        using var check = Process.Start(start)!;
        var error = check.StandardError.ReadToEndAsync();
        check.StandardOutput.ReadToEnd();
        check.WaitForExit();
        return check.ExitCode == 0 ? null : $"{interpreter} cannot import torch: {error.Result.Trim().Split('\n').LastOrDefault()}";
    }

    /// <summary>The script, found from the working directory or the program's folder upwards (the repository root holds bench/).</summary>
    public static string FindScript(string relative = ScriptPath)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
                if (File.Exists(Path.Combine(directory.FullName, relative))) return Path.Combine(directory.FullName, relative);
        throw new FileNotFoundException($"{relative} not found above {Directory.GetCurrentDirectory()} or {AppContext.BaseDirectory}; run from the repository root");
    }

    public static PythonPeer Start(string interpreter, params string[] arguments)
    {
        var start = new ProcessStartInfo(interpreter)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.ArgumentList.Add(FindScript());
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {interpreter}");
        var line = process.StandardOutput.ReadLine();
        if (line is null)
        {
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            throw new InvalidOperationException($"{interpreter} {ScriptPath} exited with {process.ExitCode} before it was ready:\n{error}");
        }
        return new PythonPeer(process, JsonDocument.Parse(line).RootElement.Clone());
    }

    /// <summary>Sends one command ("steps N", "phases N") and returns its JSON answer.</summary>
    public JsonElement Send(string command)
    {
        process.StandardInput.WriteLine(command);
        process.StandardInput.Flush();
        var line = process.StandardOutput.ReadLine()
            ?? throw new InvalidOperationException($"{ScriptPath} exited during '{command}':\n{errors.Result}");
        var answer = JsonDocument.Parse(line).RootElement.Clone();
        if (answer.TryGetProperty("error", out var error)) throw new InvalidOperationException($"{ScriptPath}: {error.GetString()}");
        return answer;
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.StandardInput.WriteLine("quit");
            process.StandardInput.Close();
            if (!process.WaitForExit(10_000)) process.Kill();
        }
        process.Dispose();
    }
}
