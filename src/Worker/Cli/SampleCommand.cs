using System.CommandLine;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Jobs;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Recipes;
using SpectralDiffusion.Worker.Sampling;
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
        var sampler = new Option<string>("--sampler") { Description = string.Join(" or ", SamplerKinds.Names) + ".", DefaultValueFactory = _ => "ddim" };
        var steps = new Option<int>("--steps") { Description = "DDIM steps (CompVis uniform timesteps), e.g. 50, 100, 200; a divisor of 1000 gives exactly that many, others a few more.", DefaultValueFactory = _ => JobSpecDefaults.DdimSteps };
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
            if (total < 1) throw new ArgumentException($"--num must be at least 1 (got {total})");
            if (perBatch < 1) throw new ArgumentException($"--batch must be at least 1 (got {perBatch})");
            var kind = SamplerKinds.Parse(parse.GetValue(sampler)!, "--sampler");
            if (kind == SamplerKind.Ddim && DdimTimesteps.Problem(DdimTimesteps.TrainingTimesteps, parse.GetValue(steps)) is { } ddimProblem)
                throw new ArgumentException($"--steps {parse.GetValue(steps)}: {ddimProblem}");
            TorchRuntime.EnsureLoaded();
            using var model = UNetCheckpoint.LoadAny(parse.GetValue(checkpoint)!, parse.GetValue(preset), parse.GetValue(ema));
            model.eval();
            var recipe = JobRecipes.ForCheckpoint(parse.GetValue(checkpoint)!, parse.GetValue(preset), parse.GetValue(modelConfig));
            using var latentSpace = LatentSpaceOption(parse.GetValue(firstStage), parse.GetValue(firstStageConfig), parse.GetValue(scaleFactor), recipe);
            latentSpace?.RequireFits(model.Config, "--checkpoint");
            var config = model.Config;
            var reverse = SamplerKinds.Create(kind, NoiseSchedule.From(recipe.Schedule), parse.GetValue(steps), parse.GetValue(eta));
            using var captions = Captions(config, parse.GetValue(context), parse.GetValue(nullContext), parse.GetValue(label));
            using var suppliedNull = parse.GetValue(nullContext) is { } nullPath ? ContextFile.Read(nullPath, "--null-context", config.ContextDim!.Value, allowBatch: false) : null;
            var cfg = parse.GetValue(guidance) is double scale ? ConditioningInputs.Guidance(model, scale, suppliedNull, "--guidance", "--null-context") : null;
            var fixedClass = parse.GetValue(label);
            BatchConditions conditions = (first, n, generator) => config.NumClasses is int k && fixedClass is int c
                ? FixedClass(c, k, n)
                : ConditioningInputs.ForSamples(config, first, n, generator, captions);
            var folder = parse.GetValue(output)!;
            var progress = new ConsoleProgress("sample", "images");
            var all = new List<Tensor>();
            using var seeds = SampleSeeds.OneStream(parse.GetValue(seed));
            new ImageSampler(model, reverse, cfg, latentSpace, clipInPixelSpace: !parse.GetValue(noClip)).Run(0, total, perBatch, seeds, conditions, samples =>
            {
                ImageFiles.SavePngs(samples.Images, folder, startIndex: samples.FirstSample);
                all.Add(samples.Images.MoveToOuterDisposeScope());
                progress.Report(samples.Completed, total);
            });
            var grid = Path.Combine(folder, "grid.png");
            ImageFiles.SaveGrid(cat(all.ToArray()), grid);
            Console.WriteLine($"wrote {total} images and {grid}");
        }));
        return command;
    }

    /// <summary>The caption embeddings of --context as (N, L, D) for a text model; null for other models.</summary>
    static Tensor? Captions(UNetConfig config, string? context, string? nullContext, int? label)
    {
        if (!config.IsTextConditional && (context ?? nullContext) is not null)
            throw new ArgumentException("--context and --null-context are for text-conditional models; this one reads no captions");
        if (!config.IsTextConditional) return null;
        if (label is not null) throw new ArgumentException("--class is for class-conditional models; a text model takes --context");
        var read = ContextFile.Read(context ?? throw new ArgumentException($"--context: this model is text-conditional (context_dim {config.ContextDim}); give a caption embedding file"),
            "--context", config.ContextDim!.Value);
        return read.dim() == 2 ? read.unsqueeze(0) : read;
    }

    /// <summary>--class for every image of a batch.</summary>
    static Conditioning FixedClass(int label, int classes, int count) =>
        label >= 0 && label < classes ? Conditioning.Classes(full(count, label, ScalarType.Int64))
            : throw new ArgumentException($"--class {label} is outside the class embedder's classes [0, {classes})");

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
