using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Models;

/// <summary>CompVis <c>CrossAttention</c>: softmax(QKᵀ/√d)V with Q from x and K, V from the context (x itself when none).</summary>
public sealed class CrossAttention : nn.Module<Tensor, Tensor?, Tensor>
{
    readonly Linear to_q;
    readonly Linear to_k;
    readonly Linear to_v;
    readonly Sequential to_out;
    readonly long heads, headChannels;

    public CrossAttention(long queryDim, long? contextDim, long heads, long headChannels, double dropout = 0) : base(nameof(CrossAttention))
    {
        (this.heads, this.headChannels) = (heads, headChannels);
        var inner = heads * headChannels;
        var context = contextDim ?? queryDim;
        to_q = nn.Linear(queryDim, inner, hasBias: false);
        to_k = nn.Linear(context, inner, hasBias: false);
        to_v = nn.Linear(context, inner, hasBias: false);
        // No second field may hold the output Linear: TorchSharp registers every module field, and an alias would add
        // extra state-dict keys (to_out.0 under another name) that break strict loading of CompVis checkpoints.
        to_out = nn.Sequential(nn.Linear(inner, queryDim), nn.Dropout(dropout));
        register_module(nameof(to_q), to_q);
        register_module(nameof(to_k), to_k);
        register_module(nameof(to_v), to_v);
        register_module(nameof(to_out), to_out);
    }

    public override Tensor forward(Tensor x, Tensor? context)
    {
        context ??= x;
        var q = SplitHeads(to_q.forward(x));
        var k = SplitHeads(to_k.forward(context));
        var v = SplitHeads(to_v.forward(context));
        var attention = einsum("bid,bjd->bij", q, k).mul(1 / Math.Sqrt(headChannels)).softmax(-1);
        var mixed = einsum("bij,bjd->bid", attention, v);
        var (batch, length) = (x.shape[0], x.shape[1]);
        return to_out.forward(mixed.view(batch, heads, length, headChannels).permute(0, 2, 1, 3).reshape(batch, length, heads * headChannels));
    }

    Tensor SplitHeads(Tensor t) =>
        t.view(t.shape[0], t.shape[1], heads, headChannels).permute(0, 2, 1, 3).reshape(t.shape[0] * heads, t.shape[1], headChannels);

    /// <summary>MACs of the four projections for <paramref name="queryRows"/> queries and <paramref name="contextRows"/> context rows.</summary>
    public long CountMacs(long queryRows, long contextRows) =>
        MacRules.Linear(to_q, queryRows) + MacRules.Linear(to_k, contextRows) + MacRules.Linear(to_v, contextRows) + MacRules.Linear((Linear)to_out.children().First(), queryRows);
}
