using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.FirstStage;

/// <summary>
/// CompVis first-stage <c>Encoder</c>: conv_in, one <see cref="ResolutionLevel"/> per <c>ch_mult</c> entry (downsampling
/// between levels), the <see cref="MiddleBlock"/>, then norm_out → swish → conv_out to z (2·z channels for KL: mean and log-variance).
/// </summary>
public sealed class Encoder : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv_in;
    readonly ModuleList<ResolutionLevel> down = nn.ModuleList<ResolutionLevel>();
    readonly MiddleBlock mid;
    readonly GroupNorm norm_out;
    readonly Conv2d conv_out;

    public Encoder(AutoencoderConfig config) : base(nameof(Encoder))
    {
        var levels = config.ChannelMult.Length;
        conv_in = nn.Conv2d(config.InChannels, config.Channels, 3, padding: 1);
        var blockIn = config.Channels;
        var resolution = config.Resolution;
        for (var level = 0; level < levels; level++)
        {
            var blockOut = config.Channels * config.ChannelMult[level];
            var last = level == levels - 1;
            down.Add(new ResolutionLevel(blockIn, blockOut, config.NumResBlocks, config.AttentionResolutions.Contains(resolution), config.NormGroups,
                                         downsample: last ? null : new Downsample(blockOut)));
            blockIn = blockOut;
            if (!last) resolution /= 2;
        }
        mid = new MiddleBlock(blockIn, config.NormGroups);
        norm_out = Normalization.GroupNorm(blockIn, config.NormGroups, ResnetBlock.NormEps);
        conv_out = nn.Conv2d(blockIn, config.Kind == AutoencoderKind.Kl ? 2 * config.ZChannels : config.ZChannels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = ChannelAlignedConvolution.Forward(conv_in, x);
        foreach (var level in down) h = level.forward(h);
        h = mid.forward(h);
        return ChannelAlignedConvolution.Forward(conv_out, nn.functional.silu(norm_out.forward(h)));
    }
}
