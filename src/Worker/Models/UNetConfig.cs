using SpectralDiffusion.Worker.Spectral;

namespace SpectralDiffusion.Worker.Models;

/// <summary>
/// The hyper-parameters of CompVis <c>openaimodel.UNetModel</c> (same names, PascalCase), plus the Spectral Diffusion
/// switch <see cref="WaveletGating"/> that replaces every Downsample/Upsample with WG-Down/WG-Up (paper §5.1).
/// </summary>
public sealed record UNetConfig
{
    public int ImageSize { get; init; } = 64;
    public int InChannels { get; init; } = 3;
    public int OutChannels { get; init; } = 3;
    public int ModelChannels { get; init; } = 224;
    public int[] ChannelMult { get; init; } = [1, 2, 4, 8];
    public int NumResBlocks { get; init; } = 2;
    /// <summary>Downsampling factors (ds, not pixel sizes) at which attention is used.</summary>
    public int[] AttentionResolutions { get; init; } = [];
    /// <summary>Heads per attention layer; −1 when <see cref="NumHeadChannels"/> fixes the head width instead.</summary>
    public int NumHeads { get; init; } = -1;
    public int NumHeadChannels { get; init; } = -1;
    public int NumHeadsUpsample { get; init; } = -1;
    public bool UseScaleShiftNorm { get; init; }
    public bool ResblockUpdown { get; init; }
    public bool ConvResample { get; init; } = true;
    /// <summary>Class count of a class-conditional model; null means unconditional.</summary>
    public int? NumClasses { get; init; }
    /// <summary>Adds one embedding row (index <see cref="NumClasses"/>) for the null class of classifier-free guidance.
    /// True matches CompVis cin checkpoints (label 1000 is their unconditional class); false matches guided-diffusion ones.</summary>
    public bool NullClass { get; init; } = true;
    public double Dropout { get; init; }
    /// <summary>GroupNorm groups (32 in CompVis; tiny presets need fewer so that 16 channels divide).</summary>
    public int NormGroups { get; init; } = 32;
    public bool WaveletGating { get; init; }
    public WaveletGateInit GateInit { get; init; } = WaveletGateInit.LowPass;
    /// <summary>CompVis SpatialTransformer (self- and cross-attention) instead of AttentionBlock; needs <see cref="ContextDim"/>.</summary>
    public bool UseSpatialTransformer { get; init; }
    public int TransformerDepth { get; init; } = 1;
    /// <summary>Width of the cross-attention context; for class-conditional transformer models the class embedding (CompVis ClassEmbedder).</summary>
    public int? ContextDim { get; init; }
    /// <summary>Context rows L a text-conditioned model is sized for (77 for CompVis txt2img); null for class-conditional models,
    /// whose context is one row (the class embedding). Sets the learned null context's shape and the MAC count's L.</summary>
    public int? ContextTokens { get; init; }
    /// <summary>A learned empty-prompt context <c>null_context</c> (L, D) for caption dropout and classifier-free guidance;
    /// off for CompVis checkpoints, whose empty-prompt embedding comes from the text encoder (supplied as a file).</summary>
    public bool LearnedNullContext { get; init; }

    /// <summary>True when the cross-attention context is a caption embedding (B, L, D) given by the caller, not a class embedding.</summary>
    public bool IsTextConditional => ContextDim is not null && NumClasses is null;

    /// <summary>Embedding rows of the class table: the classes plus the optional null class.</summary>
    public int ClassEmbeddingRows => (NumClasses ?? 0) + (NullClass ? 1 : 0);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        Require(ImageSize > 0, nameof(ImageSize), $"must be positive, got {ImageSize}");
        Require(InChannels > 0, nameof(InChannels), $"must be positive, got {InChannels}");
        Require(OutChannels > 0, nameof(OutChannels), $"must be positive, got {OutChannels}");
        Require(ModelChannels > 0, nameof(ModelChannels), $"must be positive, got {ModelChannels}");
        Require(ChannelMult is { Length: > 0 } && ChannelMult.All(m => m > 0), nameof(ChannelMult), "must be a non-empty list of positive multipliers");
        Require(NumResBlocks > 0, nameof(NumResBlocks), $"must be positive, got {NumResBlocks}");
        Require(AttentionResolutions is not null && AttentionResolutions.All(r => r > 0), nameof(AttentionResolutions), "must hold positive downsampling factors");
        Require(NumHeads != -1 || NumHeadChannels != -1, nameof(NumHeads), "either NumHeads or NumHeadChannels has to be set");
        Require(NumHeads == -1 || NumHeads > 0, nameof(NumHeads), $"must be positive or -1, got {NumHeads}");
        Require(NumHeadChannels == -1 || NumHeadChannels > 0, nameof(NumHeadChannels), $"must be positive or -1, got {NumHeadChannels}");
        Require(NumClasses is null or > 0, nameof(NumClasses), $"must be positive or null, got {NumClasses}");
        Require(Dropout is >= 0 and < 1, nameof(Dropout), $"must be in [0, 1), got {Dropout}");
        Require(NormGroups > 0, nameof(NormGroups), $"must be positive, got {NormGroups}");
        Require(TransformerDepth > 0, nameof(TransformerDepth), $"must be positive, got {TransformerDepth}");
        Require(!UseSpatialTransformer || ContextDim is > 0, nameof(ContextDim), "UseSpatialTransformer needs a positive ContextDim");
        Require(ContextDim is null || UseSpatialTransformer, nameof(ContextDim), "a ContextDim needs UseSpatialTransformer");
        Require(ContextTokens is null or > 0, nameof(ContextTokens), $"must be positive or null, got {ContextTokens}");
        Require(ContextTokens is null || IsTextConditional, nameof(ContextTokens), "only a text-conditional model (ContextDim without NumClasses) takes L context rows");
        Require(!LearnedNullContext || ContextTokens is not null, nameof(LearnedNullContext), "a learned null context needs ContextTokens (its L)");
        Require(!(WaveletGating && ResblockUpdown), nameof(WaveletGating), "cannot replace resampling layers when ResblockUpdown resamples inside ResBlocks");
        var divisor = 1 << (ChannelMult!.Length - 1);
        Require(ImageSize % divisor == 0, nameof(ImageSize), $"{ImageSize} must be divisible by 2^(levels-1) = {divisor}");
        foreach (var channels in ChannelMult.Select(m => (long)m * ModelChannels).Prepend(ModelChannels))
        {
            Require(channels % NormGroups == 0, nameof(NormGroups), $"{channels} channels are not divisible into {NormGroups} groups");
            Require(NumHeadChannels == -1 || channels % NumHeadChannels == 0, nameof(NumHeadChannels), $"{channels} channels are not divisible by {NumHeadChannels}");
        }
    }

    static void Require(bool condition, string field, string reason)
    {
        if (!condition) throw new ArgumentException($"UNetConfig.{field}: {reason}", field);
    }
}
