using System.CommandLine;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Cli;

/// <summary><c>worker unet eval</c>: one denoiser evaluation ε(x, t, c), to check a conversion against reference outputs.</summary>
public static class UNetEvalCommand
{
    public const string InputKey = "x", LabelsKey = "y", ContextKey = "context", OutputKey = "eps";

    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Our .safetensors checkpoint (or a CompVis one with --preset).", Required = true };
        var input = new Option<string>("--input") { Description = $"safetensors with '{InputKey}' (B, C, H, W) float32 and, for class-conditional models, '{LabelsKey}' (B) int64, for text models '{ContextKey}' (B, L, D) float32.", Required = true };
        var timesteps = new Option<int>("--timesteps") { Description = "The timestep t for every sample.", Required = true };
        var output = new Option<string>("--out") { Description = $"Where to write safetensors holding '{OutputKey}'.", Required = true };
        var preset = new Option<string?>("--preset") { Description = "Architecture of a CompVis checkpoint." };
        var eval = new Command("eval", "Run the UNet once on a saved input and write its output.");
        foreach (var option in new Option[] { checkpoint, input, timesteps, output, preset }) eval.Options.Add(option);
        eval.SetAction(parse => CliErrors.Run(() =>
        {
            TorchRuntime.EnsureLoaded();
            using var scope = NewDisposeScope();
            using var model = UNetCheckpoint.LoadAny(parse.GetValue(checkpoint)!, parse.GetValue(preset));
            model.eval();
            var inputPath = parse.GetValue(input)!;
            var tensors = SafetensorsFile.Read(inputPath).Tensors;
            if (!tensors.TryGetValue(InputKey, out var x))
                throw new ArgumentException($"{inputPath} holds no tensor '{InputKey}' (it has: {string.Join(", ", tensors.Keys)})", "--input");
            var conditioning = tensors.TryGetValue(LabelsKey, out var labels) ? Conditioning.Classes(labels)
                : tensors.TryGetValue(ContextKey, out var context) ? Conditioning.Text(context.to(ScalarType.Float32))
                : Conditioning.None;
            using var _ = no_grad();
            var t = full(x.shape[0], parse.GetValue(timesteps), ScalarType.Int64);
            var eps = model.forward(x.to(ScalarType.Float32), t, conditioning);
            SafetensorsFile.Write(parse.GetValue(output)!, new Dictionary<string, Tensor> { [OutputKey] = eps });
            Console.WriteLine($"wrote {parse.GetValue(output)}: {OutputKey} ({string.Join(", ", eps.shape)})");
        }));
        var command = new Command("unet", "UNet utilities.");
        command.Subcommands.Add(eval);
        return command;
    }
}
