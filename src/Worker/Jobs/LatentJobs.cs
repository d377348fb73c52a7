using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Training;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>Where a latent job's training input differs from a pixel job's: the image batches pass through the first stage.</summary>
public static class LatentJobs
{
    /// <summary><paramref name="images"/> as they are (pixel space) or encoded to scaled latents.</summary>
    public static ITrainingBatches Batches(ITrainingBatches images, LatentSpace? latentSpace, TrainerOptions options, long startStep) =>
        latentSpace is null ? images : new LatentBatches(images, latentSpace, options.Seed, options.Rank, options.WorldSize, startStep);
}
