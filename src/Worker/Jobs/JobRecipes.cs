using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Recipes;
using SpectralDiffusion.Worker.Spectral;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>
/// Resolves what a job's models were trained with: the preset's recipe, with a CompVis <c>config</c> YAML's schedule,
/// scale factor and first stage in its place when the spec names one, and the spec's gate initialisation. Training,
/// distillation, evaluation and sampling all take their schedule from <see cref="Schedule"/>.
/// </summary>
public static class JobRecipes
{
    /// <summary>The recipe of one model of a spec (<paramref name="field"/> names it in errors: "model", "teacher").</summary>
    public static ModelRecipe For(ModelSpec spec, string field = "model")
    {
        var preset = ModelRecipe.ForPreset(spec.Preset);
        var gateInit = spec.GateInit is "" or PresetSchedules.LowPass ? WaveletGateInit.LowPass
            : spec.GateInit == PresetSchedules.Neutral ? WaveletGateInit.Neutral
            : throw new ArgumentException($"{field}.gate_init: '{spec.GateInit}' is unknown; use {string.Join(" or ", PresetSchedules.GateInits)}");
        preset = preset with { UNet = preset.UNet with { GateInit = gateInit } };
        if (spec.Config.Length == 0) return preset;
        var config = CompVisConfig.Load(spec.Config);
        // The preset keeps the architecture (a student has no CompVis config of its own); the config must be of its family.
        if (FamilyProblem(config.UNet, preset.UNet) is { } problem)
            throw new ArgumentException($"{field}.config: {spec.Config} does not describe preset '{spec.Preset}': {problem}");
        return preset with
        {
            Schedule = config.Schedule, ScaleFactor = config.ScaleFactor, ScaleByStd = config.ScaleByStd, FirstStage = config.FirstStage,
            Conditioning = config.Conditioning, LossType = config.LossType, Source = spec.Config,
        };
    }

    /// <summary>
    /// The forward process of a job: the model's; for a distill job also the teacher's, since the student learns on the
    /// teacher's x_t and ᾱ_t. A student whose own schedule (its config's, else its preset's) differs is refused: it
    /// would later be sampled on another ᾱ_t than it was distilled on.
    /// </summary>
    public static DiffusionScheduleSettings Schedule(JobSpec spec)
    {
        var model = For(spec.Model);
        if (spec.Type != JobType.Distill || spec.Teacher is null) return model.Schedule;
        var teacher = For(spec.Teacher, "teacher");
        if (model.Schedule != teacher.Schedule)
            throw new ArgumentException($"model.config: the student's schedule ({model.Schedule}, {model.Source}) differs from its teacher's " +
                                        $"({teacher.Schedule}, {teacher.Source}); name the teacher's config as model.config too, so the student is " +
                                        "distilled and later sampled on the teacher's schedule");
        return teacher.Schedule;
    }

    /// <summary>
    /// The recipe of a model sampled outside a job (<c>worker sample</c>): a CompVis <paramref name="config"/>, else the
    /// <paramref name="preset"/>, else the preset our checkpoint records; an error naming both flags when none says it.
    /// </summary>
    public static ModelRecipe ForCheckpoint(string checkpoint, string? preset, string? config)
    {
        if (config is not null) return CompVisConfig.Load(config);
        if (preset is not null) return ModelRecipe.ForPreset(preset);
        if (UNetCheckpoint.IsOurFormat(checkpoint) && UNetCheckpoint.ReadHeader(checkpoint).Preset is { Length: > 0 } recorded)
            return ModelRecipe.ForPreset(recorded);
        throw new ArgumentException($"--config or --preset: {checkpoint} records no preset, so its schedule and scale factor are unknown; " +
                                    "name its CompVis config YAML or its preset");
    }

    static string? FamilyProblem(UNetConfig config, UNetConfig preset) =>
        config.InChannels != preset.InChannels ? $"in_channels {config.InChannels}, the preset {preset.InChannels}"
        : config.ContextDim != preset.ContextDim ? $"context_dim {config.ContextDim?.ToString() ?? "none"}, the preset {preset.ContextDim?.ToString() ?? "none"}"
        : config.NumClasses != preset.NumClasses ? $"{config.NumClasses?.ToString() ?? "no"} classes, the preset {preset.NumClasses?.ToString() ?? "none"}"
        : config.ChannelMult.Length != preset.ChannelMult.Length ? $"{config.ChannelMult.Length} resolutions, the preset {preset.ChannelMult.Length}"
        : null;
}
