namespace SpectralDiffusion.Worker.Jobs;

/// <summary>The numbers an evaluation produces (paper Table 1 frequency errors, FID when weights were given) and where its files are.</summary>
public sealed record EvaluationOutcome(
    string Preset,
    int NumSamples,
    double? Fid,
    double LowFrequencyError,
    double HighFrequencyError,
    IReadOnlyDictionary<string, double> Extra,
    IReadOnlyList<string> Files);
