namespace SpectralDiffusion.Shared.Jobs;

/// <summary>
/// The forward process of each preset: the one of the CompVis config its family follows. A student distils on its
/// teacher's ᾱ_t, so a teacher and student whose presets name different schedules are refused at submit time.
/// </summary>
public static class PresetSchedules
{
    /// <summary>The schedule of a preset of <see cref="KnownPresets.All"/>; an unknown name gets the LDM schedule (the spec check reports the name).</summary>
    public static DiffusionScheduleSettings Of(string preset) => preset switch
    {
        "ldm-churches" or "lite-ldm-churches" or "sd-churches" => DiffusionScheduleSettings.LsunChurches,
        "txt2img-ldm" or "txt2img-lite-ldm" or "txt2img-sd" or "sd-v1" or "sd-v1-lite" or "sd-v1-sd" => DiffusionScheduleSettings.StableDiffusion,
        _ => DiffusionScheduleSettings.Ldm,
    };

    /// <summary>Gate initialisations a spec may name (<c>model.gate_init</c>); empty means <see cref="LowPass"/>.</summary>
    public const string LowPass = "low_pass", Neutral = "neutral";

    public static IReadOnlyList<string> GateInits { get; } = [LowPass, Neutral];
}
