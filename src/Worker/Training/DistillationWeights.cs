namespace SpectralDiffusion.Worker.Training;

/// <summary>
/// The knobs of the spectrum-aware distillation loss L = L_ddpm + λs·L_spatial + λf·L_freq (paper §5.2).
/// Each term can be switched off; the paper's Table 5 ablation is the eight combinations of
/// wavelet gating (a student preset choice) × <see cref="UseSpatial"/> × <see cref="UseFrequency"/>.
/// </summary>
public sealed record DistillationWeights
{
    public double LambdaSpatial { get; init; } = 0.1;
    public double LambdaFrequency { get; init; } = 0.1;
    /// <summary>Exponent of the inverse-spectrum weight w = (|F(x0)| + ε)^(−α).</summary>
    public double Alpha { get; init; } = 1.0;
    /// <summary>ε in the frequency weight; with orthonormal FFTs of images in [-1, 1].</summary>
    public double Epsilon { get; init; } = 1e-2;
    public bool UseDdpm { get; init; } = true;
    public bool UseSpatial { get; init; } = true;
    public bool UseFrequency { get; init; } = true;

    public void Validate()
    {
        if (LambdaSpatial < 0 || double.IsNaN(LambdaSpatial)) throw new ArgumentException($"distillation.lambda_spatial must be >= 0 (got {LambdaSpatial})");
        if (LambdaFrequency < 0 || double.IsNaN(LambdaFrequency)) throw new ArgumentException($"distillation.lambda_freq must be >= 0 (got {LambdaFrequency})");
        if (Alpha < 0 || double.IsNaN(Alpha)) throw new ArgumentException($"distillation.alpha must be >= 0 (got {Alpha})");
        if (Epsilon <= 0) throw new ArgumentException($"distillation epsilon must be > 0 (got {Epsilon})");
        if (!UseDdpm && !UseSpatial && !UseFrequency) throw new ArgumentException("distillation: every loss term is disabled; enable at least one of ddpm, spatial, freq");
    }
}
