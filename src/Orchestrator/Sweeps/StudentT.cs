namespace SpectralDiffusion.Orchestrator.Sweeps;

/// <summary>
/// The two-sided 95% quantile of Student's t distribution (t<sub>0.975, ν</sub>), for intervals over a few seeds: exact to
/// four decimals from a table up to 30 degrees of freedom, and from the Cornish–Fisher expansion around the normal
/// quantile above (within 1e-4 of the exact value there).
/// </summary>
public static class StudentT
{
    const double Z975 = 1.959963984540054;

    static readonly double[] Table975 =
    [
        12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
        2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
        2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
    ];

    /// <summary>t such that P(−t &lt; T &lt; t) = 0.95 for <paramref name="degreesOfFreedom"/> ≥ 1.</summary>
    public static double Quantile975(int degreesOfFreedom)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degreesOfFreedom, 1);
        if (degreesOfFreedom <= Table975.Length) return Table975[degreesOfFreedom - 1];
        double z = Z975, v = degreesOfFreedom, z2 = z * z;
        var g1 = (z2 + 1) * z / 4;
        var g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
        var g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
        var g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;
        return z + g1 / v + g2 / (v * v) + g3 / (v * v * v) + g4 / (v * v * v * v);
    }
}
