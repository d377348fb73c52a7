using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Models;

/// <summary>CompVis <c>Upsample</c>: nearest-neighbour 2× then an optional 3×3 conv (<c>conv</c>).</summary>
public sealed class Upsample : nn.Module<Tensor, Tensor>, IMacCounted
{
    readonly Conv2d? conv;

    public Upsample(long channels, bool useConv, long? outChannels = null) : base(nameof(Upsample))
    {
        if (useConv) conv = nn.Conv2d(channels, outChannels ?? channels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var upsampled = nn.functional.interpolate(x, scale_factor: new[] { 2.0, 2.0 }, mode: InterpolationMode.Nearest);
        return conv is null ? upsampled : ChannelAlignedConvolution.Forward(conv, upsampled);
    }

    public (long Macs, FeatureShape Output) CountMacs(FeatureShape input)
    {
        var upsampled = input with { Height = input.Height * 2, Width = input.Width * 2 };
        return conv is null ? (0, upsampled) : MacRules.Conv2d(conv, upsampled, padding: 1);
    }
}
