using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;

namespace SpectralDiffusion.Worker.Recipes;

/// <summary>What a model is conditioned on, as its CompVis <c>cond_stage_config</c> says.</summary>
public enum ConditioningKind { None, Class, Text }

/// <summary>
/// The conditioning of a model: nothing, class labels (CompVis <c>ClassEmbedder</c>) or a caption embedding from a
/// text encoder that stays outside this project (<see cref="Encoder"/>: BERTEmbedder, FrozenCLIPEmbedder), whose
/// (L, <see cref="ContextDim"/>) outputs the user supplies.
/// </summary>
public sealed record ConditioningRecipe(ConditioningKind Kind, string? Key = null, string? Encoder = null, int? Classes = null, int? ContextDim = null)
{
    public static ConditioningRecipe Unconditional { get; } = new(ConditioningKind.None);

    public override string ToString() => Kind switch
    {
        ConditioningKind.Class => $"{Classes} class rows ({Encoder}, embedding width {ContextDim}), key '{Key}'",
        ConditioningKind.Text => $"caption embeddings (L, {ContextDim}) from {Encoder}, key '{Key}'",
        _ => "unconditional",
    };
}

/// <summary>
/// Everything a job needs to know about one diffusion model beyond its weights: the UNet, the forward process it was
/// trained with, the first stage and the latent scale factor, the conditioning. Read from a CompVis YAML
/// (<see cref="CompVisConfig"/>) or given by a preset (<see cref="ForPreset"/>).
/// </summary>
public sealed record ModelRecipe
{
    public required UNetConfig UNet { get; init; }
    public required DiffusionScheduleSettings Schedule { get; init; }
    /// <summary>Latents are multiplied by it before diffusion; null when it is not fixed here (<see cref="ScaleByStd"/>, or pixel space).</summary>
    public double? ScaleFactor { get; init; }
    /// <summary>CompVis <c>scale_by_std</c>: the factor was measured on the first training batch and lives in the checkpoint.</summary>
    public bool ScaleByStd { get; init; }
    /// <summary>The first-stage autoencoder; null in pixel space.</summary>
    public AutoencoderConfig? FirstStage { get; init; }
    /// <summary>The name of <see cref="FirstStage"/> among <see cref="AutoencoderPresets.Names"/>, null when it is none of them.</summary>
    public string? FirstStageName => FirstStage is { } config ? AutoencoderPresets.NameOf(config) : null;
    public ConditioningRecipe Conditioning { get; init; } = ConditioningRecipe.Unconditional;
    /// <summary>The training loss of the teacher (<c>loss_type</c>: l2, or l1 for lsun_churches).</summary>
    public string LossType { get; init; } = "l2";
    /// <summary>Where the recipe came from (a preset name or a YAML path), for messages.</summary>
    public required string Source { get; init; }

    /// <summary>The recipe of a preset: its UNet, and the schedule, first stage and scale factor of the CompVis config it follows.</summary>
    public static ModelRecipe ForPreset(string preset)
    {
        var unet = UNetPresets.Get(preset);
        var family = PresetFamilies.Of(preset);
        return new ModelRecipe
        {
            UNet = unet, Schedule = PresetSchedules.Of(preset), ScaleFactor = family.ScaleFactor, ScaleByStd = family.ScaleByStd,
            FirstStage = family.FirstStage is { } name ? AutoencoderPresets.Get(name) : null,
            Conditioning = unet.NumClasses is int classes ? new ConditioningRecipe(ConditioningKind.Class, "class_label", "ClassEmbedder", unet.ClassEmbeddingRows, unet.ContextDim)
                : unet.IsTextConditional ? new ConditioningRecipe(ConditioningKind.Text, "caption", family.TextEncoder, ContextDim: unet.ContextDim) : ConditioningRecipe.Unconditional,
            LossType = family.LossType, Source = $"preset '{preset}'",
        };
    }
}
