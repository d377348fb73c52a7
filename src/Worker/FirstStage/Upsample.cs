using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.FirstStage;

/// <summary>CompVis first-stage <c>Upsample</c>: nearest-neighbour 2×, then a 3×3 conv.</summary>
public sealed class Upsample : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv;

    public Upsample(long channels) : base(nameof(Upsample))
    {
        conv = nn.Conv2d(channels, channels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) =>
        ChannelAlignedConvolution.Forward(conv, nn.functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest));
}
