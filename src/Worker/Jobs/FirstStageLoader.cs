using Serilog;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.FirstStage;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>
/// Builds the <see cref="LatentSpace"/> a spec's <c>first_stage</c> block names, or null for a pixel-space job.
/// The scale factor is the spec's, else the checkpoint's (a full LDM file's <c>scale_factor</c>, or our metadata), else 1.
/// </summary>
public static class FirstStageLoader
{
    public static LatentSpace? Load(FirstStageSpec? spec, ILogger log)
    {
        if (spec is null) return null;
        var (model, contents) = FirstStageCheckpoint.Load(spec.Checkpoint, spec.Config);
        try
        {
            var (scale, source) = spec.HasScaleFactor ? (spec.ScaleFactor, "first_stage.scale_factor")
                : contents.ScaleFactor is double stored ? (stored, "the checkpoint")
                : (1.0, "the default (the checkpoint holds none)");
            log.Information("Latent space: {Description}; scale factor {Scale} from {Source}",
                FirstStageCheckpoint.Describe(spec.Checkpoint, spec.Config, contents), scale, source);
            return new LatentSpace(model, spec.Config, scale);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
