using System.CommandLine;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Shared.Logging;
using SpectralDiffusion.Worker.Jobs;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Worker.Cli;

/// <summary>
/// <c>worker train|distill|evaluate SPEC.yaml</c>: runs a job spec (the same YAML the orchestrator takes) in this process,
/// with <c>--set key=value</c> overrides, progress on the console and everything written under <c>--out</c>.
/// </summary>
public static class JobSpecVerb
{
    public static Command Create(string name, JobType type, string description)
    {
        var command = new Command(name, description);
        AddTo(command, type);
        return command;
    }

    /// <summary>Adds the SPEC argument, the options and the action to an existing command.</summary>
    public static void AddTo(Command command, JobType type)
    {
        var specArgument = new Argument<FileInfo>("spec") { Description = "job spec YAML (see examples/)", Arity = ArgumentArity.ExactlyOne };
        var overrides = new Option<string[]>("--set") { Description = "override a spec key, e.g. --set schedule.steps=200 (repeatable)", AllowMultipleArgumentsPerToken = false };
        var output = new Option<DirectoryInfo?>("--out") { Description = "output folder (default runs/<spec name>)" };
        var fresh = new Option<bool>("--fresh") { Description = "ignore checkpoints already in --out and start over" };
        var threads = new Option<int>("--threads") { Description = "torch intra-op threads (default: the spec's torch_threads, else libtorch's default)" };
        command.Arguments.Add(specArgument);
        command.Options.Add(overrides);
        command.Options.Add(output);
        command.Options.Add(fresh);
        command.Options.Add(threads);
        command.SetAction((parse, cancellation) =>
        {
            var file = parse.GetValue(specArgument)!;
            try
            {
                var spec = JobSpecOverrides.Load(file.FullName, parse.GetValue(overrides) ?? []);
                if (spec.Type == JobType.Unspecified) spec.Type = type;
                if (spec.Type != type)
                    throw new JobSpecFormatException($"{file.FullName}: type is {spec.Type.ToString().ToLowerInvariant()}, but this verb runs {type.ToString().ToLowerInvariant()} jobs");
                spec.WorldSize = 1;
                var violations = new JobSpecValidator(JobSpecValidator.DefaultMaxWorldSize, SpecPathRules.Local).Validate(spec);
                if (violations.Count > 0)
                    throw new JobSpecFormatException($"{file.FullName}: invalid spec:\n  " + string.Join("\n  ", violations));

                TorchRuntime.EnsureLoaded();
                var threadCount = parse.GetValue(threads) is > 0 and var t ? t : spec.TorchThreads;
                if (threadCount > 0) TorchRuntime.SetThreads(threadCount);
                var folder = parse.GetValue(output)?.FullName ?? Path.Combine("runs", spec.Name.Length > 0 ? spec.Name : Path.GetFileNameWithoutExtension(file.Name));
                var log = SerilogSetup.CreateLogger(SerilogSetup.DefaultConfiguration(), "worker");
                var host = new LocalJobHost(spec, folder, resume: !parse.GetValue(fresh), log, Console.Out, cancellation);
                JobRunner.Run(spec, host);
                if (cancellation.IsCancellationRequested)
                {
                    Console.Error.WriteLine("stopped; rerun the same command to resume from the last checkpoint");
                    return Task.FromResult(130);
                }
                return Task.FromResult(0);
            }
            catch (Exception e) when (e is JobSpecFormatException or ArgumentException or FileNotFoundException or InvalidDataException
                                          or Models.CheckpointFormatException or Models.StateDictMismatchException or Training.TrainingDivergedException or TorchLoadException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return Task.FromResult(2);
            }
        });
    }
}
