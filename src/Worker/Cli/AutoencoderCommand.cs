using System.CommandLine;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Cli;

/// <summary>
/// <c>worker autoencoder encode|decode</c>: a first stage applied to a safetensors file. encode reads <c>x</c>
/// (B, 3, H, W) in [−1, 1] and writes <c>z</c>, unscaled (VQ: quant_conv(encoder(x)); KL: the posterior mean);
/// decode reads <c>z</c> and writes <c>x</c> (VQ quantises first).
/// </summary>
public static class AutoencoderCommand
{
    public const string ImageTensor = "x", LatentTensor = "z";

    public static Command Create()
    {
        var command = new Command("autoencoder", "Encode images to first-stage latents and decode them back (CompVis VQ/KL autoencoders).");
        command.Subcommands.Add(Verb("encode", "Read tensor 'x' (B, 3, H, W) in [-1, 1]; write tensor 'z' (unscaled: VQ pre-quantisation latent, KL posterior mean).",
                                     ImageTensor, LatentTensor, (model, x) => model.Encode(x)));
        command.Subcommands.Add(Verb("decode", "Read tensor 'z'; write tensor 'x' (VQ snaps to the nearest codebook entry first).",
                                     LatentTensor, ImageTensor, (model, z) => model.Decode(z)));
        return command;
    }

    static Command Verb(string name, string description, string inputTensor, string outputTensor, Func<Autoencoder, Tensor, Tensor> apply)
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A first-stage checkpoint or a full LDM checkpoint (first_stage_model.*).", Required = true };
        var config = new Option<string>("--config") { Description = $"The first stage's architecture: {string.Join(", ", AutoencoderPresets.Names)}.", Required = true };
        var input = new Option<string>("--input") { Description = $"A safetensors file holding tensor '{inputTensor}'.", Required = true };
        var output = new Option<string>("--out") { Description = $"Where to write the safetensors file with tensor '{outputTensor}'.", Required = true };
        var verb = new Command(name, description) { checkpoint, config, input, output };
        verb.SetAction(parse => CliErrors.Run(() =>
        {
            TorchRuntime.EnsureLoaded();
            var (inputPath, outputPath) = (parse.GetValue(input)!, parse.GetValue(output)!);
            var (model, contents) = FirstStageCheckpoint.Load(parse.GetValue(checkpoint)!, parse.GetValue(config)!);
            using var _ = model;
            Console.Error.WriteLine(FirstStageCheckpoint.Describe(parse.GetValue(checkpoint)!, parse.GetValue(config)!, contents));
            var tensors = SafetensorsFile.Read(inputPath).Tensors;
            if (!tensors.TryGetValue(inputTensor, out var value))
                throw new ArgumentException($"{inputPath} has no tensor '{inputTensor}' (it holds: {string.Join(", ", tensors.Keys)})");
            FirstStageShapes.Require(model.Config, value, inputTensor == ImageTensor, inputPath);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var result = apply(model, value.to_type(ScalarType.Float32));
            SafetensorsFile.Write(outputPath, new Dictionary<string, Tensor> { [outputTensor] = result });
            Console.WriteLine($"wrote {outputPath}: {outputTensor} [{string.Join(", ", result.shape)}]");
        }));
        return verb;
    }
}
