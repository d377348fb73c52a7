using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.FirstStage;

/// <summary>
/// CompVis <c>AttnBlock</c>: single-head self-attention over the H·W positions with 1×1 conv projections q, k, v and
/// <c>proj_out</c>: x + proj_out(v · softmax(qᵀk / √C)ᵀ).
/// </summary>
public sealed class AttnBlock : nn.Module<Tensor, Tensor>
{
    readonly GroupNorm norm;
    readonly Conv2d q, k, v, proj_out;

    public AttnBlock(long channels, int normGroups = 32) : base(nameof(AttnBlock))
    {
        norm = Normalization.GroupNorm(channels, normGroups, ResnetBlock.NormEps);
        q = nn.Conv2d(channels, channels, 1);
        k = nn.Conv2d(channels, channels, 1);
        v = nn.Conv2d(channels, channels, 1);
        proj_out = nn.Conv2d(channels, channels, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        var normed = norm.forward(x);
        var query = ChannelAlignedConvolution.Forward(q, normed).reshape(batch, channels, height * width).permute(0, 2, 1);
        var key = ChannelAlignedConvolution.Forward(k, normed).reshape(batch, channels, height * width);
        var value = ChannelAlignedConvolution.Forward(v, normed).reshape(batch, channels, height * width);
        var weights = softmax(bmm(query, key) * Math.Pow(channels, -0.5), dim: 2);   // w[b, i, j] = Σ_c q[b, i, c] k[b, c, j]
        var attended = bmm(value, weights.permute(0, 2, 1)).reshape(batch, channels, height, width);
        return x + ChannelAlignedConvolution.Forward(proj_out, attended);
    }
}
