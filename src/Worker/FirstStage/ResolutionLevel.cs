using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.FirstStage;

/// <summary>
/// One entry of the encoder's <c>down</c> or the decoder's <c>up</c>: ResnetBlocks (<c>block</c>), each followed by an
/// AttnBlock (<c>attn</c>) at attention resolutions, then the level's <c>downsample</c> or <c>upsample</c> (none on the last
/// level of the encoder and the first of the decoder).
/// </summary>
public sealed class ResolutionLevel : nn.Module<Tensor, Tensor>
{
    readonly ModuleList<ResnetBlock> block = nn.ModuleList<ResnetBlock>();
    readonly ModuleList<AttnBlock> attn = nn.ModuleList<AttnBlock>();
    readonly Downsample? downsample;
    readonly Upsample? upsample;

    /// <summary>Builds <paramref name="blocks"/> ResnetBlocks from <paramref name="inChannels"/> to <paramref name="outChannels"/>.</summary>
    public ResolutionLevel(long inChannels, long outChannels, int blocks, bool attention, int normGroups, Downsample? downsample = null, Upsample? upsample = null)
        : base("level")
    {
        for (var i = 0; i < blocks; i++)
        {
            block.Add(new ResnetBlock(i == 0 ? inChannels : outChannels, outChannels, normGroups));
            if (attention) attn.Add(new AttnBlock(outChannels, normGroups));
        }
        this.downsample = downsample;
        this.upsample = upsample;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        for (var i = 0; i < block.Count; i++)
        {
            x = block[i].forward(x);
            if (attn.Count > 0) x = attn[i].forward(x);
        }
        if (downsample is not null) x = downsample.forward(x);
        if (upsample is not null) x = upsample.forward(x);
        return x;
    }
}
