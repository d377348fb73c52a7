using TorchSharp;
using SpectralDiffusion.Shared.Jobs;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Diffusion;

/// <summary>
/// The forward process q(x_t | x_0) of DDPM with LDM's "linear" β schedule, computed in float64 exactly as
/// CompVis <c>ddpm.py register_schedule</c> does (v_posterior = 0).
/// </summary>
public sealed class NoiseSchedule
{
    readonly double[] betas, alphasCumprod, alphasCumprodPrev, sqrtAlphasCumprod, sqrtOneMinusAlphasCumprod,
        sqrtRecipAlphasCumprod, sqrtRecipm1AlphasCumprod, posteriorVariance, posteriorLogVarianceClipped,
        posteriorMeanCoef1, posteriorMeanCoef2;

    NoiseSchedule(double[] betas)
    {
        this.betas = betas;
        var t = betas.Length;
        var alphas = betas.Select(b => 1.0 - b).ToArray();
        alphasCumprod = new double[t];
        var product = 1.0;
        for (var i = 0; i < t; i++) alphasCumprod[i] = product *= alphas[i];                 // ᾱ_t = Π_{s≤t} (1 − β_s)
        alphasCumprodPrev = [1.0, .. alphasCumprod[..^1]];                                    // ᾱ_{t−1}, with ᾱ_{−1} = 1
        sqrtAlphasCumprod = alphasCumprod.Select(Math.Sqrt).ToArray();
        sqrtOneMinusAlphasCumprod = alphasCumprod.Select(a => Math.Sqrt(1.0 - a)).ToArray();
        sqrtRecipAlphasCumprod = alphasCumprod.Select(a => Math.Sqrt(1.0 / a)).ToArray();
        sqrtRecipm1AlphasCumprod = alphasCumprod.Select(a => Math.Sqrt(1.0 / a - 1.0)).ToArray();
        // β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t): the variance of q(x_{t−1} | x_t, x_0)
        posteriorVariance = Enumerable.Range(0, t).Select(i => betas[i] * (1.0 - alphasCumprodPrev[i]) / (1.0 - alphasCumprod[i])).ToArray();
        posteriorLogVarianceClipped = posteriorVariance.Select(v => Math.Log(Math.Max(v, 1e-20))).ToArray();
        posteriorMeanCoef1 = Enumerable.Range(0, t).Select(i => betas[i] * Math.Sqrt(alphasCumprodPrev[i]) / (1.0 - alphasCumprod[i])).ToArray();
        posteriorMeanCoef2 = Enumerable.Range(0, t).Select(i => (1.0 - alphasCumprodPrev[i]) * Math.Sqrt(alphas[i]) / (1.0 - alphasCumprod[i])).ToArray();
    }

    /// <summary>LDM's "linear" schedule: β = linspace(√start, √end, T)², in float64 (LDM configs: start 0.0015, end 0.0195).</summary>
    public static NoiseSchedule LdmLinear(int timesteps = DdimTimesteps.TrainingTimesteps, double linearStart = 0.0015, double linearEnd = 0.0195)
    {
        if (timesteps < 2) throw new ArgumentOutOfRangeException(nameof(timesteps), timesteps, "a diffusion schedule needs at least 2 timesteps");
        if (!(linearStart > 0 && linearEnd > linearStart && linearEnd < 1))
            throw new ArgumentOutOfRangeException(nameof(linearEnd), $"need 0 < linearStart ({linearStart}) < linearEnd ({linearEnd}) < 1");
        return new NoiseSchedule(Linspace(Math.Sqrt(linearStart), Math.Sqrt(linearEnd), timesteps).Select(b => b * b).ToArray());
    }

    /// <summary>The schedule a model was trained with (its CompVis config's or its preset's).</summary>
    public static NoiseSchedule From(DiffusionScheduleSettings settings) => LdmLinear(settings.Timesteps, settings.LinearStart, settings.LinearEnd);

    /// <summary>torch.linspace's float64 CPU formula (it steps from both ends), so β matches PyTorch bit for bit.</summary>
    static double[] Linspace(double start, double end, int steps)
    {
        var step = (end - start) / (steps - 1);
        var halfway = steps / 2;
        return Enumerable.Range(0, steps).Select(i => i < halfway ? start + step * i : end - step * (steps - i - 1)).ToArray();
    }

    /// <summary>The number of diffusion steps T.</summary>
    public int Timesteps => betas.Length;
    public IReadOnlyList<double> Betas => betas;
    public IReadOnlyList<double> AlphasCumprod => alphasCumprod;
    public IReadOnlyList<double> AlphasCumprodPrev => alphasCumprodPrev;
    public IReadOnlyList<double> SqrtAlphasCumprod => sqrtAlphasCumprod;
    public IReadOnlyList<double> SqrtOneMinusAlphasCumprod => sqrtOneMinusAlphasCumprod;
    public IReadOnlyList<double> PosteriorVariance => posteriorVariance;
    public IReadOnlyList<double> PosteriorLogVarianceClipped => posteriorLogVarianceClipped;

    /// <summary>Uniform random timesteps in [0, T) for a training batch.</summary>
    public Tensor SampleTimesteps(long batchSize, Device? device = null, Generator? generator = null) =>
        randint(0, Timesteps, [batchSize], dtype: ScalarType.Int64, device: device, generator: generator);

    /// <summary>q(x_t | x_0): x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε.</summary>
    public Tensor QSample(Tensor x0, Tensor t, Tensor noise) =>
        Extract(sqrtAlphasCumprod, t, x0) * x0 + Extract(sqrtOneMinusAlphasCumprod, t, x0) * noise;

    /// <summary>x̂_0 = √(1/ᾱ_t) x_t − √(1/ᾱ_t − 1) ε̂ (CompVis predict_start_from_noise).</summary>
    public Tensor PredictStartFromNoise(Tensor xt, Tensor t, Tensor noise) =>
        Extract(sqrtRecipAlphasCumprod, t, xt) * xt - Extract(sqrtRecipm1AlphasCumprod, t, xt) * noise;

    /// <summary>ε = (√(1/ᾱ_t) x_t − x_0) / √(1/ᾱ_t − 1): the noise that makes <paramref name="x0"/> consistent with x_t.</summary>
    public Tensor PredictNoiseFromStart(Tensor xt, Tensor t, Tensor x0) =>
        (Extract(sqrtRecipAlphasCumprod, t, xt) * xt - x0) / Extract(sqrtRecipm1AlphasCumprod, t, xt);

    /// <summary>q(x_{t−1} | x_t, x_0) = N(μ̃, β̃): μ̃ = coef1·x_0 + coef2·x_t, and log β̃ clipped at 1e−20 (the "fixed small" variance).</summary>
    public (Tensor Mean, Tensor LogVariance) Posterior(Tensor x0, Tensor xt, Tensor t) =>
        (Extract(posteriorMeanCoef1, t, xt) * x0 + Extract(posteriorMeanCoef2, t, xt) * xt,
         Extract(posteriorLogVarianceClipped, t, xt));

    /// <summary>values[t] per batch element, shaped (B, 1, 1, …) to broadcast against <paramref name="like"/>, in its dtype and device.</summary>
    static Tensor Extract(double[] values, Tensor t, Tensor like)
    {
        if (t.dtype != ScalarType.Int64) throw new ArgumentException($"timesteps must be int64, got {t.dtype}", nameof(t));
        var shape = new long[like.dim()];
        Array.Fill(shape, 1L);
        shape[0] = t.shape[0];
        using var table = tensor(values, ScalarType.Float64, t.device);
        return table.gather(0, t).to(like.dtype).reshape(shape);
    }
}
