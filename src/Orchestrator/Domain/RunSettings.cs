namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>
/// What rank 0 of an attempt resolved for its run: the linear β schedule (<see cref="BetaStart"/> to <see cref="BetaEnd"/>
/// over <see cref="Timesteps"/>) and its source, the latent scale factor and its source, the first stage, the CompVis
/// configs of the model and teacher ("" where a preset decided), and the wavelet gates' initialisation ("" without gates).
/// </summary>
public sealed record RunSettings(int Attempt, double BetaStart, double BetaEnd, int Timesteps, string Parameterization, string ScheduleSource,
    double? ScaleFactor, string ScaleFactorSource, string FirstStage, string ModelConfig, string TeacherConfig, string GateInit)
{
    public const int MaxTextLength = 1000;

    /// <summary>Why the settings cannot be stored, naming the field; null when they can.</summary>
    public (string Field, string Reason)? Problem() =>
        !(BetaStart > 0 && BetaStart <= BetaEnd && BetaEnd < 1) ? ("settings.beta_start", $"is {BetaStart} with beta_end {BetaEnd}; need 0 < beta_start <= beta_end < 1")
        : Timesteps < 1 ? ("settings.timesteps", $"is {Timesteps}; must be positive")
        : ScaleFactor is { } scale && !(double.IsFinite(scale) && scale > 0) ? ("settings.scale_factor", $"is {scale}; must be a positive number")
        : Texts().FirstOrDefault(t => t.Value.Length > MaxTextLength) is { Field: not null } longText
            ? ($"settings.{longText.Field}", $"is {longText.Value.Length} characters; at most {MaxTextLength}")
        : null;

    IEnumerable<(string Field, string Value)> Texts() =>
    [
        ("parameterization", Parameterization), ("schedule_source", ScheduleSource), ("scale_factor_source", ScaleFactorSource),
        ("first_stage", FirstStage), ("model_config", ModelConfig), ("teacher_config", TeacherConfig), ("gate_init", GateInit),
    ];
}
