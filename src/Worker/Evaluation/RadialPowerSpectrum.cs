namespace SpectralDiffusion.Worker.Evaluation;

/// <summary>A radially averaged power spectrum: mean power per integer radius, with the radius as a frequency in cycles per pixel.</summary>
public sealed record RadialPowerSpectrum(double[] Frequencies, double[] Power)
{
    /// <summary>Averages the mean power spectrum over rings of integer (rounded) radius, from 0 to min(H, W)/2.</summary>
    public static RadialPowerSpectrum From(SpectrumStatistics statistics)
    {
        var power = statistics.MeanPower;
        var radii = statistics.Radii();
        var size = Math.Min(statistics.Height, statistics.Width);
        var rings = size / 2 + 1;
        var sums = new double[rings];
        var counts = new int[rings];
        for (var i = 0; i < power.Length; i++)
        {
            var ring = (int)Math.Round(radii[i]);
            if (ring >= rings) continue;
            sums[ring] += power[i];
            counts[ring]++;
        }
        return new RadialPowerSpectrum(
            Enumerable.Range(0, rings).Select(r => (double)r / size).ToArray(),
            Enumerable.Range(0, rings).Select(r => counts[r] == 0 ? 0 : sums[r] / counts[r]).ToArray());
    }
}
