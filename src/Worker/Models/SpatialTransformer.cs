using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Models;

/// <summary>
/// CompVis <c>SpatialTransformer</c>: GroupNorm → 1×1 proj_in → transformer blocks over the H·W tokens (self-attention,
/// cross-attention on the context, GEGLU feed-forward) → zero-initialised 1×1 proj_out, plus the input.
/// </summary>
public sealed class SpatialTransformer : nn.Module<Tensor, Tensor?, Tensor>, IContextBlock, IMacCounted
{
    readonly GroupNorm norm;
    readonly Conv2d proj_in;
    readonly ModuleList<BasicTransformerBlock> transformer_blocks;
    readonly Conv2d proj_out;
    readonly long contextRows;

    /// <param name="contextRows">context rows L the MAC count assumes (1 for a class embedding, 77 for a CompVis caption).</param>
    public SpatialTransformer(long channels, long heads, long headChannels, int depth, long? contextDim, int normGroups = 32, long contextRows = 1) : base(nameof(SpatialTransformer))
    {
        var inner = heads * headChannels;
        norm = Normalization.GroupNorm(channels, normGroups, eps: 1e-6);
        proj_in = nn.Conv2d(channels, inner, 1);
        transformer_blocks = nn.ModuleList(Enumerable.Range(0, depth).Select(_ => new BasicTransformerBlock(inner, heads, headChannels, contextDim)).ToArray());
        proj_out = TimestepEmbedding.ZeroModule(nn.Conv2d(inner, channels, 1));
        this.contextRows = contextDim is null ? -1 : contextRows;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor? context)
    {
        var (batch, height, width) = (x.shape[0], x.shape[2], x.shape[3]);
        var h = ChannelAlignedConvolution.Forward(proj_in, norm.forward(x));
        var inner = h.shape[1];
        h = h.flatten(2).transpose(1, 2);                                       // (B, H·W, inner)
        foreach (var block in transformer_blocks) h = block.forward(h, context);
        h = h.transpose(1, 2).reshape(batch, inner, height, width);
        return ChannelAlignedConvolution.Forward(proj_out, h) + x;
    }

    public (long Macs, FeatureShape Output) CountMacs(FeatureShape input)
    {
        var (inMacs, tokens) = MacRules.Conv2d(proj_in, input);
        var blocks = transformer_blocks.Sum(block => block.CountMacs(tokens.Positions, contextRows < 0 ? tokens.Positions : contextRows));
        var (outMacs, output) = MacRules.Conv2d(proj_out, tokens);
        return (inMacs + blocks + outMacs, output);
    }
}

/// <summary>CompVis <c>BasicTransformerBlock</c>: x += attn1(norm1(x)); x += attn2(norm2(x), context); x += ff(norm3(x)).</summary>
public sealed class BasicTransformerBlock : nn.Module<Tensor, Tensor?, Tensor>
{
    readonly CrossAttention attn1;
    readonly FeedForward ff;
    readonly CrossAttention attn2;
    readonly LayerNorm norm1, norm2, norm3;

    public BasicTransformerBlock(long dim, long heads, long headChannels, long? contextDim) : base(nameof(BasicTransformerBlock))
    {
        attn1 = new CrossAttention(dim, null, heads, headChannels);
        ff = new FeedForward(dim);
        attn2 = new CrossAttention(dim, contextDim, heads, headChannels);
        norm1 = nn.LayerNorm(dim);
        norm2 = nn.LayerNorm(dim);
        norm3 = nn.LayerNorm(dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor? context)
    {
        x = attn1.forward(norm1.forward(x), null) + x;
        x = attn2.forward(norm2.forward(x), context) + x;
        return ff.forward(norm3.forward(x)) + x;
    }

    public long CountMacs(long tokens, long contextRows) =>
        attn1.CountMacs(tokens, tokens) + attn2.CountMacs(tokens, contextRows) + ff.CountMacs(tokens);
}

/// <summary>CompVis <c>FeedForward</c> with GEGLU: Linear(d, 2·4d) → x·GELU(gate) → Linear(4d, d). Only <c>net</c> is a
/// field: an alias field of one of its layers would be registered too and add state-dict keys CompVis does not have.</summary>
public sealed class FeedForward : nn.Module<Tensor, Tensor>
{
    readonly Sequential net;

    public FeedForward(long dim, int mult = 4) : base(nameof(FeedForward))
    {
        var inner = dim * mult;
        net = nn.Sequential(("0", new Geglu(nn.Linear(dim, inner * 2))), ("1", nn.Dropout(0)), ("2", nn.Linear(inner, dim)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => net.forward(x);

    public long CountMacs(long tokens)
    {
        var layers = net.children().ToArray();
        return MacRules.Linear(((Geglu)layers[0]).Projection, tokens) + MacRules.Linear((Linear)layers[2], tokens);
    }

    /// <summary>GEGLU: a projection split in two halves, x · GELU(gate).</summary>
    sealed class Geglu : nn.Module<Tensor, Tensor>
    {
        readonly Linear proj;

        public Geglu(Linear proj) : base(nameof(Geglu))
        {
            this.proj = proj;
            RegisterComponents();
        }

        public Linear Projection => proj;

        public override Tensor forward(Tensor x)
        {
            var halves = proj.forward(x).chunk(2, dim: -1);
            return halves[0] * nn.functional.gelu(halves[1]);
        }
    }
}
