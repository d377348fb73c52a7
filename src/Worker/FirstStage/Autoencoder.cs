using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.FirstStage;

/// <summary>
/// A first-stage model with CompVis's names: <c>encoder</c>, <c>decoder</c>, <c>quant_conv</c>, <c>post_quant_conv</c> and,
/// for VQ, <c>quantize</c> (taming's VQModel / CompVis AutoencoderKL without their losses).
/// Latents here are unscaled; the diffusion scale factor is applied by the caller.
/// </summary>
public sealed class Autoencoder : nn.Module<Tensor, Tensor>
{
    readonly Encoder encoder;
    readonly Decoder decoder;
    readonly Conv2d quant_conv, post_quant_conv;
    readonly VectorQuantizer? quantize;

    public Autoencoder(AutoencoderConfig config) : base(nameof(Autoencoder))
    {
        Config = config;
        encoder = new Encoder(config);
        decoder = new Decoder(config);
        var moments = config.Kind == AutoencoderKind.Kl ? 2 : 1;
        quant_conv = nn.Conv2d(moments * config.ZChannels, moments * config.EmbedDim, 1);
        post_quant_conv = nn.Conv2d(config.EmbedDim, config.ZChannels, 1);
        if (config.Kind == AutoencoderKind.Vq) quantize = new VectorQuantizer(config.CodebookSize, config.EmbedDim);
        RegisterComponents();
    }

    public AutoencoderConfig Config { get; }

    /// <summary>quant_conv(encoder(x)): the VQ pre-quantisation latent, or the KL posterior's moments.</summary>
    public Tensor Moments(Tensor x) => ChannelAlignedConvolution.Forward(quant_conv, encoder.forward(x));

    /// <summary>The KL posterior q(z | x); an error for VQ.</summary>
    public DiagonalGaussian Posterior(Tensor x) => Config.Kind == AutoencoderKind.Kl
        ? new DiagonalGaussian(Moments(x))
        : throw new InvalidOperationException("a VQ first stage has no posterior");

    /// <summary>The deterministic latent of <c>worker autoencoder encode</c>: VQ pre-quantisation latent, KL posterior mean.</summary>
    public Tensor Encode(Tensor x) => Config.Kind == AutoencoderKind.Kl ? Posterior(x).Mean : Moments(x);

    /// <summary>The training latent: a KL posterior sample (as LDM trains), the VQ pre-quantisation latent.</summary>
    public Tensor EncodeForTraining(Tensor x, Generator? generator = null) =>
        Config.Kind == AutoencoderKind.Kl ? Posterior(x).Sample(generator) : Moments(x);

    /// <summary>Images in [−1, 1] (roughly) from unscaled latents; VQ snaps to the codebook first.</summary>
    public Tensor Decode(Tensor z)
    {
        if (quantize is not null) z = quantize.forward(z);
        return decoder.forward(ChannelAlignedConvolution.Forward(post_quant_conv, z));
    }

    /// <summary>The decoder alone on a KL latent (no sampling); for reconstruction training.</summary>
    public override Tensor forward(Tensor x) => Decode(Encode(x));
}
