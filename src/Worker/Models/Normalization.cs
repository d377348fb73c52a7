using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Models;

/// <summary>Normalisation layers as the CompVis UNet uses them (GroupNorm with 32 groups, eps 1e-5).</summary>
public static class Normalization
{
    /// <summary>
    /// A GroupNorm whose affine parameters are really initialised: TorchSharp 0.107's <c>nn.GroupNorm</c>
    /// creates weight and bias with <c>torch.empty</c> and leaves them uninitialised. Every model uses this.
    /// </summary>
    public static TorchSharp.Modules.GroupNorm GroupNorm(long channels, long groups = 32, double eps = 1e-5)
    {
        if (channels % groups != 0)
            throw new ArgumentException($"GroupNorm: {channels} channels are not divisible into {groups} groups", nameof(channels));
        var norm = nn.GroupNorm(groups, channels, eps, affine: true);
        using (no_grad())
        {
            norm.weight!.fill_(1.0);
            norm.bias!.fill_(0.0);
        }
        return norm;
    }
}
