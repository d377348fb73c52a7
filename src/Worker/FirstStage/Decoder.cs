using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.FirstStage;

/// <summary>
/// CompVis first-stage <c>Decoder</c>: conv_in from z, the <see cref="MiddleBlock"/>, then the levels from the lowest
/// resolution up (num_res_blocks + 1 ResnetBlocks each, upsampling between levels), norm_out → swish → conv_out to RGB.
/// <c>up[i]</c> is level i, as CompVis prepends while it builds from the bottom.
/// </summary>
public sealed class Decoder : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv_in;
    readonly MiddleBlock mid;
    readonly ModuleList<ResolutionLevel> up = nn.ModuleList<ResolutionLevel>();
    readonly GroupNorm norm_out;
    readonly Conv2d conv_out;

    public Decoder(AutoencoderConfig config) : base(nameof(Decoder))
    {
        var levels = config.ChannelMult.Length;
        var blockIn = config.Channels * config.ChannelMult[^1];
        var resolution = config.Resolution / (1L << (levels - 1));
        conv_in = nn.Conv2d(config.ZChannels, blockIn, 3, padding: 1);
        mid = new MiddleBlock(blockIn, config.NormGroups);
        var built = new ResolutionLevel[levels];
        for (var level = levels - 1; level >= 0; level--)
        {
            var blockOut = config.Channels * config.ChannelMult[level];
            built[level] = new ResolutionLevel(blockIn, blockOut, config.NumResBlocks + 1, config.AttentionResolutions.Contains(resolution), config.NormGroups,
                                               upsample: level == 0 ? null : new Upsample(blockOut));
            blockIn = blockOut;
            if (level != 0) resolution *= 2;
        }
        foreach (var level in built) up.Add(level);
        norm_out = Normalization.GroupNorm(blockIn, config.NormGroups, ResnetBlock.NormEps);
        conv_out = nn.Conv2d(blockIn, config.OutChannels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor z)
    {
        var h = mid.forward(ChannelAlignedConvolution.Forward(conv_in, z));
        for (var level = up.Count - 1; level >= 0; level--) h = up[level].forward(h);
        return ChannelAlignedConvolution.Forward(conv_out, nn.functional.silu(norm_out.forward(h)));
    }
}
