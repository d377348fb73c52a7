namespace SpectralDiffusion.Worker.Data;

/// <summary>Derives independent, platform-stable seeds from (seed, a, b, …) with the SplitMix64 finaliser.</summary>
public static class SeedMixer
{
    /// <summary>SplitMix64's increment: 2^64 / φ, odd.</summary>
    const ulong Golden = 0x9E3779B97F4A7C15UL;

    /// <summary>Added to every <see cref="StepSeed"/> input, so that seed 0 at step 0 does not hash the zero word.</summary>
    const ulong StepOffset = 0x632BE59BD9B4E019UL;

    public static ulong Mix(params long[] parts)
    {
        var state = Golden;
        foreach (var part in parts) state = Finalise(state ^ Finalise((ulong)part + Golden));
        return state;
    }

    /// <summary>A <see cref="Random"/> seeded from the mixed parts; .NET's seeded algorithm is stable across runs and platforms.</summary>
    public static Random Random(params long[] parts) => new((int)(Mix(parts) & int.MaxValue));

    /// <summary>A well-mixed non-negative 63-bit seed for (run seed, step), for a torch generator.</summary>
    public static long StepSeed(long seed, long step) =>
        unchecked((long)(Finalise((ulong)seed * Golden + (ulong)step + StepOffset) & long.MaxValue));

    static ulong Finalise(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>What each use of a run's seed is XORed with, so that the random streams of different uses never coincide.</summary>
public static class SeedSalts
{
    /// <summary>The evaluation's samples (x_T, DDIM noise, random classes).</summary>
    public const long EvaluationSamples = 0x5A5A;

    /// <summary>The noise a first stage draws when it encodes a training batch (KL posterior samples).</summary>
    public const long LatentNoise = 0x1A7E47;
}
