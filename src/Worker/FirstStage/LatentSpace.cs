using SpectralDiffusion.Worker.Models;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.FirstStage;

/// <summary>
/// The latent space a latent-diffusion job runs in: a frozen first stage and LDM's scale factor.
/// The diffusion model sees <c>scale · z</c>; samples are divided by the scale and decoded back to images in [−1, 1].
/// </summary>
public sealed class LatentSpace : IDisposable
{
    public LatentSpace(Autoencoder autoencoder, string configName, double scaleFactor)
    {
        if (!(scaleFactor > 0) || !double.IsFinite(scaleFactor))
            throw new ArgumentOutOfRangeException(nameof(scaleFactor), scaleFactor, "first_stage.scale_factor must be a positive finite number");
        Autoencoder = autoencoder;
        ConfigName = configName;
        ScaleFactor = scaleFactor;
        autoencoder.eval();
        foreach (var parameter in autoencoder.parameters()) parameter.requires_grad = false;
    }

    public Autoencoder Autoencoder { get; }
    public string ConfigName { get; }
    public double ScaleFactor { get; }
    /// <summary>What gave <see cref="ScaleFactor"/>: the spec's field, a model config or preset, or the checkpoint.</summary>
    public string ScaleFactorSource { get; init; } = "";

    /// <summary>The image side that gives latents of <paramref name="latentSize"/>.</summary>
    public int ImageSize(int latentSize) => (int)(latentSize * Autoencoder.Config.DownsamplingFactor);

    /// <summary>Training latents, scaled: a KL posterior sample, or the VQ pre-quantisation latent.</summary>
    public Tensor EncodeForTraining(Tensor images, Generator? generator = null)
    {
        using var _ = no_grad();
        return Autoencoder.EncodeForTraining(images, generator) * ScaleFactor;
    }

    /// <summary>Images in [−1, 1] from scaled latents (VQ snaps to the codebook first).</summary>
    public Tensor Decode(Tensor latents)
    {
        using var _ = no_grad();
        return Autoencoder.Decode(latents / ScaleFactor).clamp(-1.0, 1.0);
    }

    /// <summary>The UNet must take the latent's channels; a clear error naming both otherwise.</summary>
    public void RequireFits(UNetConfig unet, string field)
    {
        if (unet.InChannels != Autoencoder.Config.LatentChannels)
            throw new ArgumentException($"{field}: the UNet takes {unet.InChannels}-channel inputs (in_channels) but first stage '{ConfigName}' gives {Autoencoder.Config.LatentChannels}-channel latents");
    }

    public void Dispose() => Autoencoder.Dispose();
}
