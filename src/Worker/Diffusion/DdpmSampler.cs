using TorchSharp;
using SpectralDiffusion.Worker.Models;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Diffusion;

/// <summary>
/// Ancestral DDPM sampling (Ho et al. 2020, Alg. 2) as CompVis <c>p_sample</c> does it: x_{t−1} ~ q(x_{t−1} | x_t, x̂_0(x_t, ε̂))
/// with the "fixed small" posterior variance β̃_t, over every t = T−1 … 0, and no noise at t = 0.
/// </summary>
public sealed class DdpmSampler(NoiseSchedule schedule) : IReverseSampler
{
    public NoiseSchedule Schedule => schedule;

    public Tensor Sample(Denoiser denoiser, long[] shape, Generator? generator = null, Conditioning? conditioning = null,
        ClassifierFreeGuidance? guidance = null, bool clipDenoised = false, Tensor? xT = null, DenoisingStepCallback? onStep = null)
    {
        var noisiestFirst = Enumerable.Range(0, schedule.Timesteps).Reverse().ToArray();
        return ReverseProcess.Run(denoiser, shape, noisiestFirst, (x, t, eps, step) =>
        {
            var noise = noisiestFirst[step] > 0 ? randn(x.shape, generator: generator, device: x.device) : null;
            return Step(x, t, eps, noise, clipDenoised);
        }, generator, conditioning, guidance, xT, onStep);
    }

    /// <summary>One ancestral step: x_{t−1} = μ̃(x̂_0, x_t) + exp(½ log β̃_t) z, with z = 0 at t = 0.</summary>
    public Tensor Step(Tensor x, Tensor t, Tensor eps, Tensor? noise, bool clipDenoised = false)
    {
        var predictedStart = schedule.PredictStartFromNoise(x, t, eps);
        if (clipDenoised) predictedStart = predictedStart.clamp(-1.0, 1.0);
        var (mean, logVariance) = schedule.Posterior(predictedStart, x, t);
        if (noise is null) return mean;
        var nonzero = t.ne(0).to(x.dtype).reshape(logVariance.shape);   // no noise when t == 0
        return mean + nonzero * (0.5 * logVariance).exp() * noise;
    }
}
