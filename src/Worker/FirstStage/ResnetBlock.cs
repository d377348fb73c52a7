using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.FirstStage;

/// <summary>
/// CompVis <c>ResnetBlock</c> of the first stage (model.py, temb_channels 0): x′ + conv2(dropout(swish(norm2(conv1(swish(norm1(x))))))),
/// where x′ is x, or <c>nin_shortcut(x)</c> (1×1) when the width changes. GroupNorm eps is 1e-6 here, not the UNet's 1e-5.
/// </summary>
public sealed class ResnetBlock : nn.Module<Tensor, Tensor>
{
    public const double NormEps = 1e-6;

    readonly GroupNorm norm1, norm2;
    readonly Conv2d conv1, conv2;
    readonly Conv2d? nin_shortcut;
    readonly Dropout dropout;

    public ResnetBlock(long inChannels, long outChannels, int normGroups = 32, double dropoutRate = 0) : base(nameof(ResnetBlock))
    {
        norm1 = Normalization.GroupNorm(inChannels, normGroups, NormEps);
        conv1 = nn.Conv2d(inChannels, outChannels, 3, padding: 1);
        norm2 = Normalization.GroupNorm(outChannels, normGroups, NormEps);
        dropout = nn.Dropout(dropoutRate);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: 1);
        if (inChannels != outChannels) nin_shortcut = nn.Conv2d(inChannels, outChannels, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = ChannelAlignedConvolution.Forward(conv1, nn.functional.silu(norm1.forward(x)));
        h = ChannelAlignedConvolution.Forward(conv2, dropout.forward(nn.functional.silu(norm2.forward(h))));
        return (nin_shortcut is null ? x : ChannelAlignedConvolution.Forward(nin_shortcut, x)) + h;
    }
}
