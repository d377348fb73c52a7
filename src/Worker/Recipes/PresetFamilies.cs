using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.Models;

namespace SpectralDiffusion.Worker.Recipes;

/// <summary>
/// What a preset takes from the CompVis config its family follows, beyond the UNet and the schedule (<see cref="PresetSchedules"/>):
/// the first stage, the scale factor, the loss of the teacher and its text encoder. The tiny presets train here in pixel space or on a first stage the spec names.
/// </summary>
public static class PresetFamilies
{
    /// <param name="FirstStage">The first stage of the family's CompVis config (an <c>AutoencoderPresets</c> name), null where the spec names it.</param>
    /// <param name="ScaleFactor">The config's <c>scale_factor</c> (CompVis's default 1.0 where it names none), null where the checkpoint holds it.</param>
    public sealed record Family(string? FirstStage, double? ScaleFactor, bool ScaleByStd = false, string LossType = "l2", string? TextEncoder = null);

    // Sources: configs/latent-diffusion/{ffhq,celebahq,lsun_bedrooms}-ldm-vq-4.yaml, cin256-v2.yaml, cin-ldm-vq-f8.yaml,
    // lsun_churches-ldm-kl-8.yaml, txt2img-1p4B-eval.yaml and configs/stable-diffusion/v1-inference.yaml.
    static readonly Family VqF4 = new("vq-f4", 1.0);
    static readonly Family VqF8 = new("vq-f8", 1.0);
    static readonly Family Churches = new("kl-f8", null, ScaleByStd: true, LossType: "l1");
    static readonly Family Txt2Img = new("kl-f8", 0.18215, TextEncoder: "BERTEmbedder");
    static readonly Family StableDiffusionV1 = new("kl-f8", 0.18215, TextEncoder: "FrozenCLIPEmbedder");
    static readonly Family Tiny = new(null, null);

    /// <summary>The family of a preset named in <see cref="UNetPresets.Names"/>.</summary>
    public static Family Of(string preset) => preset switch
    {
        "ldm-ffhq" or "lite-ldm-ffhq" or "sd-ffhq" or "ldm-celebahq" or "lite-ldm-celebahq" or "sd-celebahq"
            or "cin-ldm" or "cin-lite-ldm" or "cin-sd" => VqF4,
        "cin-f8-ldm" => VqF8,
        "ldm-churches" or "lite-ldm-churches" or "sd-churches" => Churches,
        "txt2img-ldm" or "txt2img-lite-ldm" or "txt2img-sd" => Txt2Img,
        "sd-v1" or "sd-v1-lite" or "sd-v1-sd" => StableDiffusionV1,
        _ when preset.StartsWith("tiny", StringComparison.Ordinal) => Tiny,
        _ => throw new UnknownPresetException(preset, UNetPresets.Names),
    };
}
