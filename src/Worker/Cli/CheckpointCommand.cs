using System.CommandLine;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Worker.Cli;

/// <summary><c>worker checkpoint convert</c>: a CompVis (or our) checkpoint into our format (safetensors + config metadata).</summary>
public static class CheckpointCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input") { Description = "CompVis .ckpt / .pth / .safetensors, or one of ours.", Required = true };
        var output = new Option<string>("--output") { Description = "Where to write our .safetensors checkpoint.", Required = true };
        var preset = new Option<string?>("--preset") { Description = "The architecture of a CompVis checkpoint (see `worker models`)." };
        var ema = new Option<bool>("--ema") { Description = "Read the EMA weights (model_ema.*) instead of the model weights." };
        var convert = new Command("convert", "Convert a checkpoint to our format; loading is strict, so a wrong preset is an error listing the keys.");
        convert.Options.Add(input);
        convert.Options.Add(output);
        convert.Options.Add(preset);
        convert.Options.Add(ema);
        convert.SetAction(parse => CliErrors.Run(() =>
        {
            TorchRuntime.EnsureLoaded();
            var presetName = parse.GetValue(preset);
            using var model = UNetCheckpoint.LoadAny(parse.GetValue(input)!, presetName, parse.GetValue(ema));
            UNetCheckpoint.Save(model, parse.GetValue(output)!, presetName);
            Console.WriteLine($"wrote {parse.GetValue(output)} ({ModelStatistics.CountParameters(model):N0} parameters{(presetName is null ? "" : $", preset {presetName}")})");
        }));
        var command = new Command("checkpoint", "Checkpoint conversion.");
        command.Subcommands.Add(convert);
        return command;
    }
}
