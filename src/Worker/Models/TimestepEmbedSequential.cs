using SpectralDiffusion.Worker.Spectral;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Models;

/// <summary>A layer that takes the timestep embedding as a second input (CompVis <c>TimestepBlock</c>).</summary>
public interface ITimestepBlock
{
    Tensor forward(Tensor x, Tensor emb);
}

/// <summary>A layer that takes the cross-attention context as a second input (CompVis <c>SpatialTransformer</c>).</summary>
public interface IContextBlock
{
    Tensor forward(Tensor x, Tensor? context);
}

/// <summary>
/// A sequence whose children are registered as "0", "1", … (so parameter names match CompVis) and that passes the
/// timestep embedding to <see cref="ITimestepBlock"/> children and the context to <see cref="IContextBlock"/> ones.
/// </summary>
public sealed class TimestepEmbedSequential : nn.Module<Tensor, Tensor, Tensor>, IMacCounted
{
    readonly List<nn.Module> layers = [];

    public TimestepEmbedSequential(params nn.Module[] layers) : base(nameof(TimestepEmbedSequential))
    {
        foreach (var layer in layers)
        {
            register_module(this.layers.Count.ToString(), layer);
            this.layers.Add(layer);
        }
    }

    public IReadOnlyList<nn.Module> Layers => layers;

    public override Tensor forward(Tensor x, Tensor emb) => forward(x, emb, null);

    public Tensor forward(Tensor x, Tensor emb, Tensor? context)
    {
        foreach (var layer in layers)
        {
            x = layer switch
            {
                ITimestepBlock timestepBlock => timestepBlock.forward(x, emb),
                IContextBlock contextBlock => contextBlock.forward(x, context),
                Conv2d conv => ChannelAlignedConvolution.Forward(conv, x),
                nn.Module<Tensor, Tensor> plain => plain.forward(x),
                _ => throw new InvalidOperationException($"{layer.GetName()} has no forward(Tensor)"),
            };
        }
        return x;
    }

    public (long Macs, FeatureShape Output) CountMacs(FeatureShape input)
    {
        long total = 0;
        foreach (var layer in layers)
        {
            var (macs, output) = layer switch
            {
                IMacCounted counted => counted.CountMacs(input),
                Conv2d conv => MacRules.Conv2d(conv, input, padding: conv.weight!.shape[2] / 2),
                // The Haar transform is a fixed filter: only the gate FFN's Linear layers count.
                WaveletGatedDownsample down => (down.Gate.CountMacs(), input with { Height = input.Height / 2, Width = input.Width / 2 }),
                WaveletGatedUpsample up => (up.Gate.CountMacs(), input with { Height = input.Height * 2, Width = input.Width * 2 }),
                _ => throw new InvalidOperationException($"{layer.GetType().Name} cannot count its MACs"),
            };
            total += macs;
            input = output;
        }
        return (total, input);
    }
}
