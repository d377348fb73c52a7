using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>
/// Image batches turned into the latents the diffusion model trains on, as LDM does: KL samples its posterior (a fresh
/// sample every step, seeded by step and rank so a resume draws the same), VQ takes the pre-quantisation latent.
/// </summary>
public sealed class LatentBatches(ITrainingBatches images, LatentSpace latents, long seed, int rank, int worldSize, long startStep) : ITrainingBatches
{
    long step = startStep;

    public (Tensor Images, Conditioning Conditioning) Next()
    {
        var (batch, conditioning) = images.Next();
        using var generator = new Generator((ulong)SeedMixer.StepSeed(seed ^ SeedSalts.LatentNoise, step++ * worldSize + rank));
        return (latents.EncodeForTraining(batch, generator), conditioning);
    }

    public void Dispose() => images.Dispose();
}
