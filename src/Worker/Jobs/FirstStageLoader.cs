using Serilog;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Recipes;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>
/// Builds the <see cref="LatentSpace"/> a spec's <c>first_stage</c> block names, or null for a pixel-space job.
/// The scale factor is the spec's, else the model recipe's (its CompVis config's <c>scale_factor</c>, when the recipe's
/// first stage is the one named), else the checkpoint's (a full LDM file's <c>scale_factor</c>, or our metadata); where
/// none gives one the job fails naming <c>first_stage.scale_factor</c>: a wrong factor puts the latents several times off.
/// </summary>
public static class FirstStageLoader
{
    public static LatentSpace? Load(FirstStageSpec? spec, ILogger log, ModelRecipe? recipe = null)
    {
        if (spec is null) return null;
        var (model, contents) = FirstStageCheckpoint.Load(spec.Checkpoint, spec.Config);
        try
        {
            var fromRecipe = recipe is { ScaleFactor: double configured } && recipe.FirstStageName == spec.Config ? configured : (double?)null;
            var (scale, source) = spec.HasScaleFactor ? (spec.ScaleFactor, "first_stage.scale_factor")
                : fromRecipe is double value ? (value, recipe!.Source)
                : contents.ScaleFactor is double stored ? (stored, "the checkpoint")
                : throw new ArgumentException($"first_stage.scale_factor: neither the spec, the model's config ({recipe?.Source ?? "none"}) nor {spec.Checkpoint} " +
                                              "gives the latents' scale factor; set it (CompVis's scale_factor, e.g. 0.18215 for Stable Diffusion's kl-f8)");
            log.Information("Latent space: {Description}; scale factor {Scale} from {Source}",
                FirstStageCheckpoint.Describe(spec.Checkpoint, spec.Config, contents), scale, source);
            return new LatentSpace(model, spec.Config, scale) { ScaleFactorSource = source };
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
