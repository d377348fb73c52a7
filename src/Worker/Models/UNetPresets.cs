using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Worker.Models;

/// <summary>
/// Named UNet configurations: the CompVis teachers (configs/latent-diffusion/*.yaml), their Lite baselines
/// (model_channels cut down) and the Spectral Diffusion students (Lite + wavelet gating), plus tiny pixel-space
/// variants (32×32 RGB) that train on 2 CPU cores. The tiny teacher and students share their number of resolutions
/// and blocks, so every student decoder tap has a teacher tap of the same scale.
/// </summary>
public static class UNetPresets
{
    /// <summary>CompVis ffhq-ldm-vq-4: 64×64×3 VQ-f4 latents, 274.06M params.</summary>
    public static UNetConfig LdmFfhq() => new()
    {
        ImageSize = 64, InChannels = 3, OutChannels = 3, ModelChannels = 224, ChannelMult = [1, 2, 3, 4],
        NumResBlocks = 2, AttentionResolutions = [8, 4, 2], NumHeadChannels = 32,
    };

    /// <summary>Lite-LDM baseline (paper Table 2): the FFHQ teacher with model_channels 64.</summary>
    public static UNetConfig LiteLdmFfhq() => LdmFfhq() with { ModelChannels = 64 };

    /// <summary>The Spectral Diffusion student: Lite-LDM with every Downsample/Upsample replaced by WG-Down/WG-Up.</summary>
    public static UNetConfig SdFfhq() => LiteLdmFfhq() with { WaveletGating = true };

    /// <summary>CelebA-HQ uses the same CompVis configuration as FFHQ (celebahq-ldm-vq-4).</summary>
    public static UNetConfig LdmCelebaHq() => LdmFfhq();

    public static UNetConfig LiteLdmCelebaHq() => LiteLdmFfhq();

    public static UNetConfig SdCelebaHq() => SdFfhq();

    /// <summary>CompVis lsun_churches-ldm-kl-8: 32×32×4 KL-f8 latents, scale-shift norm, resblock up/down.</summary>
    public static UNetConfig LdmChurches() => new()
    {
        ImageSize = 32, InChannels = 4, OutChannels = 4, ModelChannels = 192, ChannelMult = [1, 2, 2, 4, 4],
        NumResBlocks = 2, AttentionResolutions = [1, 2, 4, 8], NumHeads = 8, UseScaleShiftNorm = true, ResblockUpdown = true,
    };

    public static UNetConfig LiteLdmChurches() => LdmChurches() with { ModelChannels = 64 };

    /// <summary>Wavelet gating replaces the resampling layers, so the student resamples with WG layers, not ResBlocks.</summary>
    public static UNetConfig SdChurches() => LiteLdmChurches() with { ResblockUpdown = false, WaveletGating = true };

    /// <summary>
    /// CompVis cin256-v2 (the paper's ImageNet teacher, LDM-4): 64×64×3 VQ-f4 latents, one head, cross-attention on the
    /// 512-d class embedding (ClassEmbedder 1001×512, label 1000 the null class). 400.92M params without the class embedder.
    /// </summary>
    public static UNetConfig CinLdm() => new()
    {
        ImageSize = 64, InChannels = 3, OutChannels = 3, ModelChannels = 192, ChannelMult = [1, 2, 3, 5],
        NumResBlocks = 2, AttentionResolutions = [8, 4, 2], NumHeads = 1,
        UseSpatialTransformer = true, TransformerDepth = 1, ContextDim = 512, NumClasses = 1000,
    };

    /// <summary>The paper's ImageNet Lite baseline: cin256-v2 with model_channels 64 (47.03M without the class embedder).</summary>
    public static UNetConfig CinLiteLdm() => CinLdm() with { ModelChannels = 64 };

    /// <summary>The paper's ImageNet SD student: the Lite baseline with wavelet gating (45.38M without the class embedder).</summary>
    public static UNetConfig CinSd() => CinLiteLdm() with { WaveletGating = true };

    /// <summary>CompVis cin-ldm-vq-f8 (LDM-8 on 32×32×4 VQ-f8 latents): another ImageNet model, not the paper's, kept so its checkpoint loads.
    /// Its ClassEmbedder has the default 1000 rows, no null class.</summary>
    public static UNetConfig CinF8Ldm() => new()
    {
        ImageSize = 32, InChannels = 4, OutChannels = 4, ModelChannels = 256, ChannelMult = [1, 2, 4],
        NumResBlocks = 2, AttentionResolutions = [4, 2, 1], NumHeadChannels = 32,
        UseSpatialTransformer = true, TransformerDepth = 1, ContextDim = 512, NumClasses = 1000, NullClass = false,
    };

    /// <summary>
    /// The UNet of CompVis txt2img-1p4B (LDM-KL-8-G): 32×32×4 KL-f8 latents, 8 heads, cross-attention on the (B, 77, 1280)
    /// output of its BERT text encoder (not part of this project: the caller supplies the embeddings). The empty-prompt
    /// context for guidance is that encoder's embedding of "", supplied as a file.
    /// </summary>
    public static UNetConfig Txt2ImgLdm() => new()
    {
        ImageSize = 32, InChannels = 4, OutChannels = 4, ModelChannels = 320, ChannelMult = [1, 2, 4, 4],
        NumResBlocks = 2, AttentionResolutions = [4, 2, 1], NumHeads = 8,
        UseSpatialTransformer = true, TransformerDepth = 1, ContextDim = 1280, ContextTokens = 77,
    };

    /// <summary>The text Lite baseline: txt2img-1p4B with model_channels cut down (docs/method.md, "text-to-image students").</summary>
    public static UNetConfig Txt2ImgLiteLdm() => Txt2ImgLdm() with { ModelChannels = TextStudentChannels };

    /// <summary>The paper's text-to-image SD student: the text Lite baseline with wavelet gating.</summary>
    public static UNetConfig Txt2ImgSd() => Txt2ImgLiteLdm() with { WaveletGating = true };

    /// <summary>The Stable Diffusion v1 UNet (configs/stable-diffusion/v1-inference.yaml): txt2img-1p4B's layout on 64×64×4
    /// latents with cross-attention on the (B, 77, 768) output of CLIP ViT-L/14; 859,520,964 params.</summary>
    public static UNetConfig StableDiffusionV1() => Txt2ImgLdm() with { ImageSize = 64, ContextDim = 768 };

    /// <summary>The Lite baseline of the CLIP-context text model: <see cref="StableDiffusionV1"/> at the text students' width.</summary>
    public static UNetConfig StableDiffusionV1Lite() => StableDiffusionV1() with { ModelChannels = TextStudentChannels };

    /// <summary>The paper's text SD student ("a fixed CLIP encoder", §6.1): the CLIP-context Lite with wavelet gating, 77,414,620 params.</summary>
    public static UNetConfig StableDiffusionV1Sd() => StableDiffusionV1Lite() with { WaveletGating = true };

    /// <summary>Model channels of the text students: the width whose SD student comes closest to the paper's 77.6M (docs/method.md).</summary>
    const int TextStudentChannels = 96;

    /// <summary>Tiny pixel-space teacher (≈1.6M params; a PyTorch prototype of this size took 1.29 s a step at batch 64 on 2 cores: docs/platform-notes.md).</summary>
    public static UNetConfig TinyLdm() => new()
    {
        ImageSize = 32, InChannels = 3, OutChannels = 3, ModelChannels = 32, ChannelMult = [1, 2, 2],
        NumResBlocks = 2, AttentionResolutions = [4], NumHeadChannels = 16, NormGroups = 8,
    };

    public static UNetConfig TinyLiteLdm() => TinyLdm() with { ModelChannels = 16 };

    public static UNetConfig TinySd() => TinyLiteLdm() with { WaveletGating = true };

    /// <summary>Tiny class-conditional variants: 10 classes (plus the null class) added to the timestep embedding.</summary>
    public static UNetConfig TinyCinLdm() => TinyLdm() with { NumClasses = 10 };

    public static UNetConfig TinyCinLiteLdm() => TinyLiteLdm() with { NumClasses = 10 };

    public static UNetConfig TinyCinSd() => TinySd() with { NumClasses = 10 };

    /// <summary>The tiny models on 16×16 images (a quarter of the compute): the multi-seed CPU experiment (bench/experiment.sh).</summary>
    public static UNetConfig Tiny16Ldm() => TinyLdm() with { ImageSize = 16 };

    public static UNetConfig Tiny16LiteLdm() => TinyLiteLdm() with { ImageSize = 16 };

    public static UNetConfig Tiny16Sd() => TinySd() with { ImageSize = 16 };

    /// <summary>Tiny text-conditional variants: cross-attention on an 8×32 caption embedding, with a learned null context.</summary>
    public static UNetConfig TinyTxtLdm() => TinyLdm() with { UseSpatialTransformer = true, ContextDim = 32, ContextTokens = 8, LearnedNullContext = true };

    public static UNetConfig TinyTxtLiteLdm() => TinyTxtLdm() with { ModelChannels = 16 };

    public static UNetConfig TinyTxtSd() => TinyTxtLiteLdm() with { WaveletGating = true };

    /// <summary>The factory of each preset in <see cref="KnownPresets"/> (the one list of names and shapes, shared with the orchestrator).</summary>
    static readonly Dictionary<string, Func<UNetConfig>> Factories = new(StringComparer.Ordinal)
    {
        ["ldm-ffhq"] = LdmFfhq,
        ["lite-ldm-ffhq"] = LiteLdmFfhq,
        ["sd-ffhq"] = SdFfhq,
        ["ldm-celebahq"] = LdmCelebaHq,
        ["lite-ldm-celebahq"] = LiteLdmCelebaHq,
        ["sd-celebahq"] = SdCelebaHq,
        ["ldm-churches"] = LdmChurches,
        ["lite-ldm-churches"] = LiteLdmChurches,
        ["sd-churches"] = SdChurches,
        ["cin-ldm"] = CinLdm,
        ["cin-lite-ldm"] = CinLiteLdm,
        ["cin-sd"] = CinSd,
        ["cin-f8-ldm"] = CinF8Ldm,
        ["txt2img-ldm"] = Txt2ImgLdm,
        ["txt2img-lite-ldm"] = Txt2ImgLiteLdm,
        ["txt2img-sd"] = Txt2ImgSd,
        ["sd-v1"] = StableDiffusionV1,
        ["sd-v1-lite"] = StableDiffusionV1Lite,
        ["sd-v1-sd"] = StableDiffusionV1Sd,
        ["tiny-ldm"] = TinyLdm,
        ["tiny-lite-ldm"] = TinyLiteLdm,
        ["tiny-sd"] = TinySd,
        ["tiny-cin-ldm"] = TinyCinLdm,
        ["tiny-cin-lite-ldm"] = TinyCinLiteLdm,
        ["tiny-cin-sd"] = TinyCinSd,
        ["tiny16-ldm"] = Tiny16Ldm,
        ["tiny16-lite-ldm"] = Tiny16LiteLdm,
        ["tiny16-sd"] = Tiny16Sd,
        ["tiny-txt-ldm"] = TinyTxtLdm,
        ["tiny-txt-lite-ldm"] = TinyTxtLiteLdm,
        ["tiny-txt-sd"] = TinyTxtSd,
    };

    public static IReadOnlyList<string> Names => KnownPresets.All;

    /// <summary>The preset of that name; <see cref="UnknownPresetException"/> lists the known names otherwise.</summary>
    public static UNetConfig Get(string name) =>
        Factories.TryGetValue(name, out var create) ? create() : throw new UnknownPresetException(name, Names);
}

/// <summary>A preset name that is not in <see cref="UNetPresets.Names"/>; the message suggests the closest one.</summary>
public sealed class UnknownPresetException(string name, IReadOnlyList<string> known)
    : ArgumentException($"unknown preset '{name}'{Spelling.Hint(name, known)}; known presets: {string.Join(", ", known)}", "preset")
{
    public string Preset { get; } = name;
}
