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
        command.Subcommands.Add(Train());
        return command;
    }

    /// <summary><c>worker autoencoder train</c>: a KL first stage from scratch (L1 + small KL; no LPIPS, no GAN), saved with its scale factor.</summary>
    static Command Train()
    {
        var config = new Option<string>("--config") { Description = "A KL config: kl-f4, kl-f8 or tiny-kl.", DefaultValueFactory = _ => "tiny-kl" };
        var output = new Option<string>("--out") { Description = "Where to write the first stage (.safetensors, CompVis names).", Required = true };
        var images = new Option<string?>("--images") { Description = "An image folder (PNG/JPEG); default: the procedural textures." };
        var count = new Option<int>("--procedural-count") { Description = "Procedural images when no --images is given.", DefaultValueFactory = _ => 1024 };
        var size = new Option<int>("--image-size") { Description = "Images are resized and centre-cropped to this size.", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 200 };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 16 };
        var learningRate = new Option<double>("--lr") { DefaultValueFactory = _ => 1e-3 };
        var klWeight = new Option<double>("--kl-weight") { Description = "Weight of the KL term (per latent element).", DefaultValueFactory = _ => 1e-6 };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Torch threads (0: the default)." };
        var train = new Command("train", "Train a KL first stage on images (L1 reconstruction + a small KL weight; the GAN and LPIPS terms of the original are not implemented).");
        foreach (var option in new Option[] { config, output, images, count, size, steps, batch, learningRate, klWeight, seed, threads }) train.Options.Add(option);
        train.SetAction(parse => CliErrors.Run(() =>
        {
            var (stepCount, batchSize, imageSize) = (parse.GetValue(steps), parse.GetValue(batch), parse.GetValue(size));
            if (stepCount < 1 || batchSize < 1) throw new ArgumentException("--steps and --batch must be at least 1");
            if (!(parse.GetValue(klWeight) >= 0)) throw new ArgumentException($"--kl-weight must not be negative (got {parse.GetValue(klWeight)})");
            var name = parse.GetValue(config)!;
            var architecture = AutoencoderPresets.Get(name);
            if (imageSize % architecture.DownsamplingFactor != 0) throw new ArgumentException($"--image-size {imageSize} is not divisible by {name}'s factor {architecture.DownsamplingFactor}");
            TorchRuntime.EnsureLoaded();
            if (parse.GetValue(threads) > 0) TorchRuntime.SetThreads(parse.GetValue(threads));
            Data.IImageDataset dataset = parse.GetValue(images) is { } folder
                ? new Data.ImageFolderDataset(folder, imageSize)
                : new Data.ProceduralTextureDataset(parse.GetValue(count), imageSize, (int)parse.GetValue(seed) + 1);
            manual_seed(parse.GetValue(seed));
            using var model = new Autoencoder(architecture);
            var progress = new ConsoleProgress("autoencoder", "steps");
            var (lastL1, lastKl) = (double.NaN, double.NaN);
            var scale = new AutoencoderTrainer(model, parse.GetValue(learningRate), parse.GetValue(klWeight))
                .Train(dataset, stepCount, batchSize, parse.GetValue(seed), (step, l1, kl) => { (lastL1, lastKl) = (l1, kl); progress.Report(step, stepCount); });
            if (!double.IsFinite(lastL1)) throw new InvalidOperationException("the reconstruction loss is not finite; lower --lr");
            FirstStageCheckpoint.Save(model, parse.GetValue(output)!, name, scale);
            Console.WriteLine($"wrote {parse.GetValue(output)}: {name}, L1 {lastL1:F4}, KL {lastKl:F2}, scale factor {scale:F4}");
        }));
        return train;
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
