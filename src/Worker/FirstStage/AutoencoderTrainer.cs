using SpectralDiffusion.Worker.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.FirstStage;

/// <summary>
/// Trains a KL first stage on images: L = mean |x − D(z)| + β·KL(q(z|x) ‖ N(0, I)) / (C·H·W), z ~ q(z|x) (CompVis's
/// LPIPSWithDiscriminator without its LPIPS and GAN terms, which are out of scope). At the end the scale factor is set
/// as LDM's scale_by_std does: 1 / std of the posterior samples of one batch.
/// </summary>
public sealed class AutoencoderTrainer(Autoencoder model, double learningRate = 1e-3, double klWeight = 1e-6)
{
    /// <summary>Runs <paramref name="steps"/> AdamW steps on random batches of <paramref name="dataset"/>; reports (step, L1, KL).</summary>
    public double Train(IImageDataset dataset, int steps, int batchSize, long seed, Action<int, double, double>? onStep = null, CancellationToken cancellation = default)
    {
        if (model.Config.Kind != AutoencoderKind.Kl) throw new ArgumentException("only KL first stages are trained here (VQ needs the codebook losses of taming)");
        if (dataset.Count < batchSize) throw new ArgumentException($"the dataset has {dataset.Count} images, fewer than one batch of {batchSize}");
        model.train();
        using var optimizer = optim.AdamW(model.parameters(), learningRate);
        var random = new Random((int)seed);
        using var generator = new Generator((ulong)seed);
        for (var step = 1; step <= steps && !cancellation.IsCancellationRequested; step++)
        {
            using var scope = NewDisposeScope();
            var images = dataset.GetRange(random.Next(0, dataset.Count - batchSize + 1), batchSize);
            var posterior = model.Posterior(images);
            var reconstruction = model.Decode(posterior.Sample(generator));
            var l1 = (images - reconstruction).abs().mean();
            var kl = posterior.KlToStandardNormal().mean() / (posterior.Mean.shape[1] * posterior.Mean.shape[2] * posterior.Mean.shape[3]);
            var loss = l1 + klWeight * kl;
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            onStep?.Invoke(step, l1.item<float>(), kl.item<float>());
        }
        model.eval();
        using var _ = no_grad();
        using var batch = dataset.GetRange(0, Math.Min(dataset.Count, 64));
        var std = model.Posterior(batch).Sample(generator).std().item<float>();
        return std > 0 ? 1.0 / std : 1.0;
    }
}
