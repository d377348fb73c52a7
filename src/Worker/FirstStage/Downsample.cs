using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.FirstStage;

/// <summary>CompVis first-stage <c>Downsample</c>: pad right and bottom by one (asymmetric), then a stride-2 3×3 conv without padding.</summary>
public sealed class Downsample : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv;

    public Downsample(long channels) : base(nameof(Downsample))
    {
        conv = nn.Conv2d(channels, channels, 3, stride: 2, padding: 0L);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => ChannelAlignedConvolution.Forward(conv, nn.functional.pad(x, [0, 1, 0, 1]));
}
