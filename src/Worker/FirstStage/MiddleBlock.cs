using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.FirstStage;

/// <summary>The encoder's and decoder's <c>mid</c>: ResnetBlock, AttnBlock, ResnetBlock at the lowest resolution.</summary>
public sealed class MiddleBlock : nn.Module<Tensor, Tensor>
{
    readonly ResnetBlock block_1, block_2;
    readonly AttnBlock attn_1;

    public MiddleBlock(long channels, int normGroups) : base("mid")
    {
        block_1 = new ResnetBlock(channels, channels, normGroups);
        attn_1 = new AttnBlock(channels, normGroups);
        block_2 = new ResnetBlock(channels, channels, normGroups);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => block_2.forward(attn_1.forward(block_1.forward(x)));
}
