using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Models;

/// <summary>CompVis <c>Downsample</c>: a stride-2 3×3 conv (<c>op</c>), or 2×2 average pooling without conv_resample.</summary>
public sealed class Downsample : nn.Module<Tensor, Tensor>, IMacCounted
{
    readonly nn.Module<Tensor, Tensor> op;

    public Downsample(long channels, bool useConv, long? outChannels = null) : base(nameof(Downsample))
    {
        var output = outChannels ?? channels;
        if (!useConv && output != channels)
            throw new ArgumentException($"Downsample without a conv cannot change {channels} channels to {output}", nameof(outChannels));
        op = useConv ? nn.Conv2d(channels, output, 3, stride: 2, padding: 1) : nn.AvgPool2d(2, 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => op is Conv2d conv ? ChannelAlignedConvolution.Forward(conv, x) : op.forward(x);

    public (long Macs, FeatureShape Output) CountMacs(FeatureShape input) => op is Conv2d conv
        ? MacRules.Conv2d(conv, input, stride: 2, padding: 1)
        : (0, input with { Height = input.Height / 2, Width = input.Width / 2 });
}
