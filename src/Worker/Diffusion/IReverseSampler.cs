using SpectralDiffusion.Worker.Models;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Diffusion;

/// <summary>A reverse process from x_T ~ N(0, I) (or <paramref name="xT"/>) to x_0: <see cref="DdimSampler"/> or <see cref="DdpmSampler"/>.</summary>
public interface IReverseSampler
{
    /// <param name="clipDenoised">clamps x̂_0 to [−1, 1] at every step (pixel space; off in latent space).</param>
    Tensor Sample(Denoiser denoiser, long[] shape, Generator? generator = null, Conditioning? conditioning = null,
        ClassifierFreeGuidance? guidance = null, bool clipDenoised = false, Tensor? xT = null, DenoisingStepCallback? onStep = null);
}

/// <summary>The reverse samplers a user can choose by name.</summary>
public enum SamplerKind { Ddim, Ddpm }

public static class SamplerKinds
{
    /// <summary>The names a user types, in the order a message lists them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["ddim", "ddpm"];

    /// <summary>The sampler named <paramref name="name"/>; <see cref="ArgumentException"/> naming <paramref name="flag"/> otherwise.</summary>
    public static SamplerKind Parse(string name, string flag) => name switch
    {
        "ddim" => SamplerKind.Ddim,
        "ddpm" => SamplerKind.Ddpm,
        _ => throw new ArgumentException($"{flag} '{name}' is unknown: use {string.Join(" or ", Names)}"),
    };

    /// <summary>The sampler of that kind on <paramref name="schedule"/>; <paramref name="ddimSteps"/> and <paramref name="eta"/> are DDIM's alone.</summary>
    public static IReverseSampler Create(SamplerKind kind, NoiseSchedule schedule, int ddimSteps, double eta) => kind switch
    {
        SamplerKind.Ddim => new DdimSampler(schedule, ddimSteps, eta),
        SamplerKind.Ddpm => new DdpmSampler(schedule),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
