namespace SpectralDiffusion.Worker.Models;

/// <summary>The shape of one sample's feature map while MACs are counted by a shape walk (batch 1, no forward pass).</summary>
public readonly record struct FeatureShape(long Channels, long Height, long Width)
{
    public long Positions => Height * Width;
}

/// <summary>A block that can count its multiply-adds for one sample from its input shape (ptflops convention).</summary>
public interface IMacCounted
{
    /// <summary>Conv and linear multiply-adds (bias adds included, attention matmuls not), and the output shape.</summary>
    (long Macs, FeatureShape Output) CountMacs(FeatureShape input);
}

/// <summary>ptflops' counting rules for the two layer kinds it counts here.</summary>
public static class MacRules
{
    /// <summary>Conv: out_positions·C_out·(C_in/groups·k²) + bias out_positions·C_out.</summary>
    public static long Conv(long inChannels, long outChannels, long kernel, long outPositions, bool bias = true) =>
        outPositions * outChannels * inChannels * kernel * kernel + (bias ? outPositions * outChannels : 0);

    /// <summary>A Conv2d module's MACs and output shape from its weight shape (out, in/groups, k, k).</summary>
    public static (long Macs, FeatureShape Output) Conv2d(TorchSharp.Modules.Conv2d conv, FeatureShape input, long stride = 1, long padding = 0)
    {
        var shape = conv.weight!.shape;
        var (outChannels, inPerGroup, kernel) = (shape[0], shape[1], shape[2]);
        var output = new FeatureShape(outChannels, (input.Height + 2 * padding - kernel) / stride + 1, (input.Width + 2 * padding - kernel) / stride + 1);
        return (Conv(inPerGroup, outChannels, kernel, output.Positions, conv.bias is not null), output);
    }

    /// <summary>A Linear module's MACs on <paramref name="rows"/> rows.</summary>
    public static long Linear(TorchSharp.Modules.Linear linear, long rows = 1) =>
        Linear(linear.weight!.shape[1], linear.weight!.shape[0], rows, linear.bias is not null);

    /// <summary>Linear on <paramref name="rows"/> input rows: rows·in·out + out (ptflops adds the bias once).</summary>
    public static long Linear(long inFeatures, long outFeatures, long rows = 1, bool bias = true) =>
        rows * inFeatures * outFeatures + (bias ? outFeatures : 0);
}
