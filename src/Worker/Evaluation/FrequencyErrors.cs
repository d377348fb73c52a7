namespace SpectralDiffusion.Worker.Evaluation;

/// <summary>The paper's Table 1 errors: mean |Δ log-magnitude spectrum| below and above the radial cut-off.</summary>
public sealed record FrequencyErrorResult(double LowFrequencyError, double HighFrequencyError, double Cutoff, int Height, int Width);

/// <summary>
/// Frequency errors as in the paper's Table 1: the mean log-magnitude spectrum of N real and N generated images, and the
/// mean absolute difference of the two at frequencies within and beyond a radial cut-off (28 at 256 px, scaled with size).
/// </summary>
public static class FrequencyErrors
{
    /// <summary>The cut-off radius for an image side: 28 · size / 256.</summary>
    public static double DefaultCutoff(int size) => 28.0 * size / 256.0;

    public static FrequencyErrorResult Compute(SpectrumStatistics real, SpectrumStatistics generated, double? cutoff = null)
    {
        if ((real.Height, real.Width) != (generated.Height, generated.Width))
            throw new ArgumentException($"real images are {real.Height}x{real.Width} but generated ones are {generated.Height}x{generated.Width}", nameof(generated));
        var radius = cutoff ?? DefaultCutoff(Math.Min(real.Height, real.Width));
        if (radius <= 0) throw new ArgumentOutOfRangeException(nameof(cutoff), radius, "the cut-off radius must be positive");
        var realSpectrum = real.MeanLogMagnitude;
        var generatedSpectrum = generated.MeanLogMagnitude;
        var radii = real.Radii();
        double lowSum = 0, highSum = 0;
        int lowCount = 0, highCount = 0;
        for (var i = 0; i < radii.Length; i++)
        {
            var difference = Math.Abs(realSpectrum[i] - generatedSpectrum[i]);
            if (radii[i] <= radius) { lowSum += difference; lowCount++; }
            else { highSum += difference; highCount++; }
        }
        if (highCount == 0) throw new ArgumentOutOfRangeException(nameof(cutoff), radius, $"the cut-off leaves no high frequencies in {real.Height}x{real.Width} images");
        return new FrequencyErrorResult(lowSum / lowCount, highSum / highCount, radius, real.Height, real.Width);
    }
}
