using System.CommandLine;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Jobs;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Cli;

/// <summary><c>worker sample</c>: draws images from a trained model with DDIM (default, 200 steps) or DDPM ancestral sampling, as PNG files and a grid.</summary>
public static class SampleCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Model weights: our .safetensors, or a CompVis checkpoint with --preset.", Required = true };
        var preset = new Option<string?>("--preset") { Description = "Architecture of a CompVis checkpoint." };
        var ema = new Option<bool>("--ema") { Description = "Use the EMA weights of a CompVis checkpoint." };
        var count = new Option<int>("--num") { Description = "Number of images.", DefaultValueFactory = _ => 16 };
        var sampler = new Option<string>("--sampler") { Description = "ddim or ddpm.", DefaultValueFactory = _ => "ddim" };
        var steps = new Option<int>("--steps") { Description = "DDIM steps (CompVis uniform timesteps), e.g. 50, 100, 200; a divisor of 1000 gives exactly that many, others a few more.", DefaultValueFactory = _ => 200 };
        var eta = new Option<double>("--eta") { Description = "DDIM eta (0 = deterministic).", DefaultValueFactory = _ => 0.0 };
        var guidance = new Option<double?>("--guidance") { Description = "Classifier-free guidance scale (class-conditional and text models)." };
        var context = new Option<string?>("--context") { Description = "Caption embeddings for a text model: safetensors (L, D) for every image or (N, L, D) cycled (docs/text-conditioning.md)." };
        var nullContext = new Option<string?>("--null-context") { Description = "The empty-prompt embedding (L, D) for --guidance with a text model that has no learned null context." };
        var label = new Option<int?>("--class") { Description = "Class of every image (class-conditional models; default: random classes)." };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch") { Description = "Images per forward pass.", DefaultValueFactory = _ => 16 };
        var output = new Option<string>("--out") { Description = "Output folder for sample-*.png and grid.png.", Required = true };
        var noClip = new Option<bool>("--no-clip") { Description = "Do not clip the predicted x0 to [-1, 1] (latent-space models)." };
        var firstStage = new Option<string?>("--first-stage") { Description = "Latent model: its first stage (a first-stage or full LDM checkpoint); samples are decoded and x0 is not clipped." };
        var firstStageConfig = new Option<string?>("--first-stage-config") { Description = "The first stage's config (vq-f4, kl-f8, ...); required with --first-stage." };
        var scaleFactor = new Option<double?>("--scale-factor") { Description = "LDM scale factor of the latents (default: the config's or preset's, else the checkpoint's)." };
        var modelConfig = new Option<string?>("--config") { Description = "The model's CompVis config YAML: its schedule and scale factor (default: the preset's)." };
        var command = new Command("sample", "Generate images from a trained model (PNG files and a grid) with progress.");
        foreach (var option in new Option[] { checkpoint, preset, ema, count, sampler, steps, eta, guidance, context, nullContext, label, seed, batch, output, noClip, firstStage, firstStageConfig, scaleFactor, modelConfig })
            command.Options.Add(option);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var total = parse.GetValue(count);
            var perBatch = parse.GetValue(batch);
            var kind = parse.GetValue(sampler)!;
            if (total < 1) throw new ArgumentException($"--num must be at least 1 (got {total})");
            if (perBatch < 1) throw new ArgumentException($"--batch must be at least 1 (got {perBatch})");
            if (kind is not ("ddim" or "ddpm")) throw new ArgumentException($"--sampler '{kind}' is unknown: use ddim or ddpm");
            if (kind == "ddim" && DdimTimesteps.Problem(DdimTimesteps.TrainingTimesteps, parse.GetValue(steps)) is { } ddimProblem)
                throw new ArgumentException($"--steps {parse.GetValue(steps)}: {ddimProblem}");
            TorchRuntime.EnsureLoaded();
            using var model = UNetCheckpoint.LoadAny(parse.GetValue(checkpoint)!, parse.GetValue(preset), parse.GetValue(ema));
            model.eval();
            var recipe = JobRecipes.ForCheckpoint(parse.GetValue(checkpoint)!, parse.GetValue(preset), parse.GetValue(modelConfig));
            using var latentSpace = LatentSpaceOption(parse.GetValue(firstStage), parse.GetValue(firstStageConfig), parse.GetValue(scaleFactor), recipe);
            latentSpace?.RequireFits(model.Config, "--checkpoint");
            var config = model.Config;
            var schedule = NoiseSchedule.From(recipe.Schedule);
            var ddim = kind == "ddim" ? new DdimSampler(schedule, parse.GetValue(steps), parse.GetValue(eta)) : null;
            var ddpm = kind == "ddpm" ? new DdpmSampler(schedule) : null;
            if (!config.IsTextConditional && (parse.GetValue(context) ?? parse.GetValue(nullContext)) is not null)
                throw new ArgumentException("--context and --null-context are for text-conditional models; this one reads no captions");
            if (config.IsTextConditional && parse.GetValue(label) is not null) throw new ArgumentException("--class is for class-conditional models; a text model takes --context");
            using var captions = config.IsTextConditional
                ? ContextFile.Read(parse.GetValue(context) ?? throw new ArgumentException($"--context: this model is text-conditional (context_dim {config.ContextDim}); give a caption embedding file"),
                    "--context", config.ContextDim!.Value) is var read && read.dim() == 2 ? read.unsqueeze(0) : read
                : null;
            using var suppliedNull = parse.GetValue(nullContext) is { } nullPath ? ContextFile.Read(nullPath, "--null-context", config.ContextDim!.Value, allowBatch: false) : null;
            var cfg = parse.GetValue(guidance) is double scale ? ConditioningInputs.Guidance(model, scale, suppliedNull, "--guidance", "--null-context") : null;
            Denoiser denoiser = (x, t, c) => model.forward(x, t, c);
            var output_ = parse.GetValue(output)!;
            var progress = new ConsoleProgress("sample", "images");
            var all = new List<Tensor>();
            using var generator = new Generator((ulong)parse.GetValue(seed));
            for (var done = 0; done < total; done += perBatch)
            {
                var n = Math.Min(perBatch, total - done);
                var conditioning = config.NumClasses is int k && parse.GetValue(label) is int fixedClass
                    ? (fixedClass >= 0 && fixedClass < k ? Conditioning.Classes(full(n, fixedClass, ScalarType.Int64))
                        : throw new ArgumentException($"--class {fixedClass} is outside the class embedder's classes [0, {k})"))
                    : ConditioningInputs.ForSamples(config, done, n, generator, captions);
                long[] shape = [n, config.InChannels, config.ImageSize, config.ImageSize];
                var clip = !parse.GetValue(noClip) && latentSpace is null;
                var samples = ddim is not null
                    ? ddim.Sample(denoiser, shape, generator, conditioning, cfg, clip)
                    : ddpm!.Sample(denoiser, shape, generator, conditioning, cfg, clip);
                if (latentSpace is not null) samples = latentSpace.Decode(samples);
                ImageFiles.SavePngs(samples, output_, startIndex: done);
                all.Add(samples);
                progress.Report(done + n, total);
            }
            var grid = Path.Combine(output_, "grid.png");
            ImageFiles.SaveGrid(cat(all.ToArray()), grid);
            Console.WriteLine($"wrote {total} images and {grid}");
        }));
        return command;
    }

    static LatentSpace? LatentSpaceOption(string? checkpoint, string? config, double? scaleFactor, ModelRecipe recipe)
    {
        if (checkpoint is null) return config is null && scaleFactor is null ? null
            : throw new ArgumentException("--first-stage-config and --scale-factor need --first-stage (the first-stage checkpoint)");
        if (config is null) throw new ArgumentException($"--first-stage needs --first-stage-config ({string.Join(", ", AutoencoderPresets.Names)})");
        var spec = new Shared.Contracts.V1.FirstStageSpec { Config = config, Checkpoint = checkpoint };
        if (scaleFactor is double scale) spec.ScaleFactor = scale;
        return Jobs.FirstStageLoader.Load(spec, Shared.Logging.SerilogSetup.CreateLogger(Shared.Logging.SerilogSetup.DefaultConfiguration(), "worker"), recipe);
    }
}
