namespace SpectralDiffusion.Shared.Jobs;

/// <summary>
/// The forward process a model was trained with, as CompVis <c>ddpm.py</c> configures it: the "linear" β schedule
/// β = linspace(√<see cref="LinearStart"/>, √<see cref="LinearEnd"/>, <see cref="Timesteps"/>)² and the ε
/// parameterisation (the only one this project trains and samples). A teacher, its students and their samplers must
/// share it: the same x_t means the same ᾱ_t.
/// </summary>
public sealed record DiffusionScheduleSettings(double LinearStart, double LinearEnd, int Timesteps)
{
    /// <summary>The LDM configs of the paper's teachers (ffhq, celebahq, lsun_bedrooms, cin256-v2, cin-ldm-vq-f8).</summary>
    public static DiffusionScheduleSettings Ldm { get; } = new(0.0015, 0.0195, DdimTimesteps.TrainingTimesteps);

    /// <summary>CompVis txt2img-1p4B and Stable Diffusion v1 (<c>v1-inference.yaml</c>).</summary>
    public static DiffusionScheduleSettings StableDiffusion { get; } = new(0.00085, 0.012, DdimTimesteps.TrainingTimesteps);

    /// <summary>CompVis lsun_churches-ldm-kl-8.</summary>
    public static DiffusionScheduleSettings LsunChurches { get; } = new(0.0015, 0.0155, DdimTimesteps.TrainingTimesteps);

    /// <summary>What CompVis <c>DDPM.__init__</c> uses when a config names none of the three.</summary>
    public static DiffusionScheduleSettings CompVisDefault { get; } = new(1e-4, 2e-2, 1000);

    public override string ToString() =>
        FormattableString.Invariant($"linear β {LinearStart:G6} → {LinearEnd:G6}, T = {Timesteps}, ε-prediction");
}
