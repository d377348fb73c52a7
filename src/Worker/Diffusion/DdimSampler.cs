using TorchSharp;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.Models;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Diffusion;

/// <summary>
/// DDIM sampling (Song et al. 2021, eq. 12) with CompVis <c>ddim.py</c> semantics: "uniform" timesteps
/// range(0, T, T//S) + 1 from <see cref="DdimTimesteps"/> (it refuses S whose grid reaches t = T; an S that does not
/// divide T gets CompVis's longer grid), σ_t = η √((1 − ᾱ_prev)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_prev).
/// </summary>
public sealed class DdimSampler : IReverseSampler
{
    readonly NoiseSchedule schedule;
    readonly int[] timesteps;
    readonly double[] alphas, alphasPrev, sigmas;

    public DdimSampler(NoiseSchedule schedule, int steps = JobSpecDefaults.DdimSteps, double eta = 0.0)
    {
        if (DdimTimesteps.Problem(schedule.Timesteps, steps) is { } problem)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"DDIM steps {steps}: {problem}");
        if (eta < 0 || double.IsNaN(eta)) throw new ArgumentOutOfRangeException(nameof(eta), eta, "eta must be ≥ 0");
        this.schedule = schedule;
        Eta = eta;
        timesteps = DdimTimesteps.Uniform(schedule.Timesteps, steps);
        var cumprod = schedule.AlphasCumprod;
        alphas = timesteps.Select(t => cumprod[t]).ToArray();
        alphasPrev = [cumprod[0], .. timesteps[..^1].Select(t => cumprod[t])];
        sigmas = Enumerable.Range(0, timesteps.Length)
            .Select(i => eta * Math.Sqrt((1 - alphasPrev[i]) / (1 - alphas[i]) * (1 - alphas[i] / alphasPrev[i]))).ToArray();
    }

    public double Eta { get; }

    /// <summary>The timesteps the network sees, ascending (the sampler walks them from the last to the first).</summary>
    public IReadOnlyList<int> Timesteps => timesteps;

    /// <summary>σ of each step, indexed like <see cref="Timesteps"/>.</summary>
    public IReadOnlyList<double> Sigmas => sigmas;

    /// <summary>
    /// Runs the reverse process from x_T ~ N(0, I) (or <paramref name="xT"/>) and returns x_0.
    /// <paramref name="clipDenoised"/> clamps x̂_0 to [−1, 1] and recomputes ε from it (needed in pixel space, off in latent space).
    /// </summary>
    public Tensor Sample(Denoiser denoiser, long[] shape, Generator? generator = null, Conditioning? conditioning = null,
        ClassifierFreeGuidance? guidance = null, bool clipDenoised = false, Tensor? xT = null, DenoisingStepCallback? onStep = null)
    {
        var noisiestFirst = timesteps.Reverse().ToArray();
        return ReverseProcess.Run(denoiser, shape, noisiestFirst, (x, _, eps, step) =>
        {
            var index = timesteps.Length - 1 - step;
            var noise = sigmas[index] > 0 ? randn(x.shape, generator: generator, device: x.device) : null;
            return Step(x, eps, index, noise, clipDenoised).Previous;
        }, generator, conditioning, guidance, xT, onStep);
    }

    /// <summary>
    /// One DDIM update at <see cref="Timesteps"/>[<paramref name="index"/>]:
    /// x_prev = √ᾱ_prev x̂_0 + √(1 − ᾱ_prev − σ²) ε + σ z. Returns x_prev and x̂_0.
    /// </summary>
    public (Tensor Previous, Tensor PredictedStart) Step(Tensor x, Tensor eps, int index, Tensor? noise = null, bool clipDenoised = false)
    {
        if (sigmas[index] > 0 && noise is null) throw new ArgumentException($"eta = {Eta} needs noise for step {index}", nameof(noise));
        double alpha = alphas[index], alphaPrev = alphasPrev[index], sigma = sigmas[index];
        // current prediction for x_0
        var predictedStart = (x - Math.Sqrt(1 - alpha) * eps) / Math.Sqrt(alpha);
        if (clipDenoised)
        {
            predictedStart = predictedStart.clamp(-1.0, 1.0);
            eps = (x - Math.Sqrt(alpha) * predictedStart) / Math.Sqrt(1 - alpha);   // ε consistent with the clipped x̂_0
        }
        // direction pointing to x_t
        var directionToXt = Math.Sqrt(1 - alphaPrev - sigma * sigma) * eps;
        var previous = Math.Sqrt(alphaPrev) * predictedStart + directionToXt;
        if (sigma > 0) previous = previous + sigma * noise!;
        return (previous, predictedStart);
    }

    /// <summary>The schedule this sampler was built from.</summary>
    public NoiseSchedule Schedule => schedule;
}
