using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Models;

/// <summary>
/// CompVis <c>AttentionBlock</c> with the legacy QKV layout (heads split before q/k/v): x + proj_out(attn(qkv(norm(x)))).
/// The head count is <c>numHeads</c>, or channels / <c>numHeadChannels</c> when that is not −1.
/// </summary>
public sealed class AttentionBlock : nn.Module<Tensor, Tensor>, IMacCounted
{
    readonly GroupNorm norm;
    readonly Conv1d qkv;
    readonly Conv1d proj_out;
    readonly long channels;
    readonly long heads;

    public AttentionBlock(long channels, int numHeads = 1, int numHeadChannels = -1, int normGroups = 32) : base(nameof(AttentionBlock))
    {
        if (numHeadChannels != -1 && channels % numHeadChannels != 0)
            throw new ArgumentException($"q,k,v channels {channels} are not divisible by num_head_channels {numHeadChannels}", nameof(numHeadChannels));
        this.channels = channels;
        heads = numHeadChannels == -1 ? numHeads : channels / numHeadChannels;
        norm = Normalization.GroupNorm(channels, normGroups);
        qkv = nn.Conv1d(channels, channels * 3, 1);
        proj_out = TimestepEmbedding.ZeroModule(nn.Conv1d(channels, channels, 1));
        RegisterComponents();
    }

    public long Heads => heads;

    public override Tensor forward(Tensor x)
    {
        var (batch, length) = (x.shape[0], x.shape[2] * x.shape[3]);
        var flat = x.reshape(batch, channels, length);
        var attended = LegacyQkvAttention(ChannelAlignedConvolution.Forward(qkv, norm.forward(flat)), heads);
        return (flat + ChannelAlignedConvolution.Forward(proj_out, attended)).reshape(x.shape);
    }

    /// <summary>softmax(qᵀk / √d) applied to v, per head; qkv is (N, H·3·d, T) with heads split first (QKVAttentionLegacy).</summary>
    public static Tensor LegacyQkvAttention(Tensor qkv, long heads)
    {
        var (batch, width, length) = (qkv.shape[0], qkv.shape[1], qkv.shape[2]);
        var headChannels = width / (3 * heads);
        var parts = qkv.reshape(batch * heads, headChannels * 3, length).split(headChannels, dim: 1);
        var scale = 1 / Math.Sqrt(Math.Sqrt(headChannels));
        var weight = einsum("bct,bcs->bts", parts[0] * scale, parts[1] * scale);
        weight = softmax(weight.to(ScalarType.Float32), dim: -1).to(weight.dtype);
        return einsum("bts,bcs->bct", weight, parts[2]).reshape(batch, -1, length);
    }

    public (long Macs, FeatureShape Output) CountMacs(FeatureShape input)
    {
        var positions = input.Positions;
        var macs = MacRules.Conv(channels, 3 * channels, 1, positions) + MacRules.Conv(channels, channels, 1, positions);
        return (macs, input);
    }
}
