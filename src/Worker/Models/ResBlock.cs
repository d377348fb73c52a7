using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Models;

/// <summary>
/// CompVis <c>ResBlock</c>: GroupNorm → SiLU → conv, plus the projected timestep embedding (added, or as scale and
/// shift of the second norm), then GroupNorm → SiLU → dropout → zero-initialised conv, plus a skip connection.
/// With <c>up</c>/<c>down</c> it resamples inside the block (resblock_updown).
/// </summary>
public sealed class ResBlock : nn.Module<Tensor, Tensor, Tensor>, ITimestepBlock, IMacCounted
{
    public enum Resample { None, Up, Down }

    readonly Sequential in_layers;
    readonly Sequential emb_layers;
    readonly Sequential out_layers;
    readonly nn.Module<Tensor, Tensor> skip_connection;
    readonly GroupNorm[] norms;           // in_layers[0], out_layers[0]
    readonly Conv2d[] convs;              // in_layers[2], out_layers[3]
    readonly Linear embProjection;
    readonly Dropout dropout;
    readonly bool useScaleShiftNorm;
    readonly Resample resample;
    readonly long outChannels;

    public ResBlock(long channels, long embChannels, double dropoutRate, long? outChannels = null, bool useScaleShiftNorm = false,
                    Resample resample = Resample.None, int normGroups = 32) : base(nameof(ResBlock))
    {
        this.outChannels = outChannels ?? channels;
        this.useScaleShiftNorm = useScaleShiftNorm;
        this.resample = resample;
        norms = [Normalization.GroupNorm(channels, normGroups), Normalization.GroupNorm(this.outChannels, normGroups)];
        convs = [nn.Conv2d(channels, this.outChannels, 3, padding: 1),
                 TimestepEmbedding.ZeroModule(nn.Conv2d(this.outChannels, this.outChannels, 3, padding: 1))];
        embProjection = nn.Linear(embChannels, useScaleShiftNorm ? 2 * this.outChannels : this.outChannels);
        dropout = nn.Dropout(dropoutRate);
        in_layers = nn.Sequential(norms[0], nn.SiLU(), convs[0]);
        emb_layers = nn.Sequential(nn.SiLU(), embProjection);
        out_layers = nn.Sequential(norms[1], nn.SiLU(), dropout, convs[1]);
        skip_connection = this.outChannels == channels ? nn.Identity() : nn.Conv2d(channels, this.outChannels, 1);
        register_module(nameof(in_layers), in_layers);
        register_module(nameof(emb_layers), emb_layers);
        register_module(nameof(out_layers), out_layers);
        register_module(nameof(skip_connection), skip_connection);
    }

    /// <summary>The children are registered above under their CompVis names. TorchSharp's reflective registration (run when a
    /// parent registers this block) would add the aliases <c>embProjection</c> and <c>dropout</c> as well, and
    /// state_dict would then carry <c>*.embProjection.*</c> keys that no CompVis checkpoint has.</summary>
    protected override void RegisterComponents() { }

    public override Tensor forward(Tensor x, Tensor emb)
    {
        Tensor h;
        // The Sequentials hold the CompVis names; the convs run aligned (ChannelAlignedConvolution).
        h = nn.functional.silu(norms[0].forward(x));
        if (resample != Resample.None)
        {
            h = Resampled(h);
            x = Resampled(x);
        }
        h = ChannelAlignedConvolution.Forward(convs[0], h);
        var embOut = emb_layers.forward(emb).to(h.dtype).unsqueeze(-1).unsqueeze(-1);
        if (useScaleShiftNorm)
        {
            var scaleShift = embOut.chunk(2, dim: 1);
            h = norms[1].forward(h) * (1 + scaleShift[0]) + scaleShift[1];
        }
        else
        {
            h = norms[1].forward(h + embOut);
        }
        h = ChannelAlignedConvolution.Forward(convs[1], dropout.forward(nn.functional.silu(h)));
        return Skip(x) + h;
    }

    Tensor Skip(Tensor x) => skip_connection is Conv2d conv ? ChannelAlignedConvolution.Forward(conv, x) : skip_connection.forward(x);

    Tensor Resampled(Tensor x) => resample == Resample.Up
        ? nn.functional.interpolate(x, scale_factor: new[] { 2.0, 2.0 }, mode: InterpolationMode.Nearest)
        : nn.functional.avg_pool2d(x, 2, 2);

    public (long Macs, FeatureShape Output) CountMacs(FeatureShape input)
    {
        var resampled = resample switch
        {
            Resample.Up => input with { Height = input.Height * 2, Width = input.Width * 2 },
            Resample.Down => input with { Height = input.Height / 2, Width = input.Width / 2 },
            _ => input,
        };
        var (inMacs, hidden) = MacRules.Conv2d(convs[0], resampled, padding: 1);
        var (outMacs, output) = MacRules.Conv2d(convs[1], hidden, padding: 1);
        var skipMacs = skip_connection is Conv2d skip ? MacRules.Conv2d(skip, resampled).Macs : 0;
        return (inMacs + MacRules.Linear(embProjection) + outMacs + skipMacs, output);
    }
}
