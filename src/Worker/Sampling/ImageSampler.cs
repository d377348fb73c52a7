using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Sampling;

/// <summary>The conditions of samples [<paramref name="firstSample"/>, <paramref name="firstSample"/> + <paramref name="count"/>).</summary>
public delegate Conditioning BatchConditions(int firstSample, int count, Generator generator);

/// <summary>One batch of images, decoded to pixels: samples [FirstSample, FirstSample + Count) of the run.</summary>
/// <param name="Offset">How many samples of this call came before the batch.</param>
public sealed record SampleBatch(int Offset, int FirstSample, Tensor Images)
{
    public int Count => (int)Images.shape[0];

    /// <summary>Samples of this call done once the batch is handled.</summary>
    public int Completed => Offset + Count;
}

/// <summary>What the network sees in place of the bare model for one batch, and what runs after each of its denoising steps.</summary>
public sealed record DenoisingHooks(Denoiser Denoiser, DenoisingStepCallback OnStep);

/// <summary>
/// Draws images from a model in batches with a reverse sampler: x_T and the conditions from <see cref="SampleSeeds"/>,
/// classifier-free guidance if given, x̂_0 clipped in pixel space, latents decoded by the first stage. The loop
/// <c>worker sample</c> and evaluation share.
/// </summary>
public sealed class ImageSampler(UNetModel model, IReverseSampler sampler, ClassifierFreeGuidance? guidance = null, LatentSpace? latentSpace = null,
    bool clipInPixelSpace = true)
{
    /// <summary>DDIM's x0 clipping is a pixel-space rule: never in latent space.</summary>
    readonly bool clipDenoised = clipInPixelSpace && latentSpace is null;

    /// <summary>
    /// Samples [<paramref name="firstSample"/>, <paramref name="firstSample"/> + <paramref name="count"/>) in batches of at most
    /// <paramref name="batchSize"/> and hands each batch to <paramref name="onBatch"/> inside its own dispose scope (move out
    /// what must outlive it). Stops before the next batch once <paramref name="cancellation"/> is set.
    /// </summary>
    /// <param name="firstBatchHooks">instrumentation of the first batch only (e.g. recording gates per step).</param>
    public void Run(int firstSample, int count, int batchSize, SampleSeeds seeds, BatchConditions conditions, Action<SampleBatch> onBatch,
        CancellationToken cancellation = default, DenoisingHooks? firstBatchHooks = null)
    {
        var config = model.Config;
        for (var done = 0; done < count && !cancellation.IsCancellationRequested; done += batchSize)
        {
            var n = Math.Min(batchSize, count - done);
            using var scope = NewDisposeScope();
            var generator = seeds.ForBatch(firstSample + done);
            var conditioning = conditions(firstSample + done, n, generator);
            var hooks = done == 0 ? firstBatchHooks : null;
            var samples = sampler.Sample(hooks?.Denoiser ?? model.forward, [n, config.InChannels, config.ImageSize, config.ImageSize], generator, conditioning,
                guidance, clipDenoised, onStep: hooks?.OnStep);
            if (latentSpace is not null) samples = latentSpace.Decode(samples);
            onBatch(new SampleBatch(done, firstSample + done, samples));
        }
    }
}
