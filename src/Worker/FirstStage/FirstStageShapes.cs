using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.FirstStage;

/// <summary>Checks a tensor against what a first stage takes: images (B, 3, H, W) with H and W divisible by f, or latents (B, embed_dim, h, w).</summary>
public static class FirstStageShapes
{
    public static void Require(AutoencoderConfig config, Tensor tensor, bool isImage, string source)
    {
        var shape = $"[{string.Join(", ", tensor.shape)}]";
        var channels = isImage ? config.InChannels : config.LatentChannels;
        if (tensor.dim() != 4 || tensor.shape[1] != channels)
            throw new ArgumentException($"{source}: tensor '{(isImage ? "x" : "z")}' is {shape}; this first stage takes (B, {channels}, H, W)");
        var factor = config.DownsamplingFactor;
        if (isImage && (tensor.shape[2] % factor != 0 || tensor.shape[3] % factor != 0))
            throw new ArgumentException($"{source}: images of {tensor.shape[2]}×{tensor.shape[3]} are not divisible by the first stage's factor {factor}");
    }

    /// <summary>The latent shape (C, h, w) of images of <paramref name="imageSize"/>².</summary>
    public static (long Channels, long Size) Latent(AutoencoderConfig config, long imageSize) =>
        (config.LatentChannels, imageSize / config.DownsamplingFactor);
}
