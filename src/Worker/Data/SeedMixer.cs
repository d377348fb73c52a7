namespace SpectralDiffusion.Worker.Data;

/// <summary>Derives independent, platform-stable seeds from (seed, a, b, …) with the SplitMix64 finaliser.</summary>
public static class SeedMixer
{
    public static ulong Mix(params long[] parts)
    {
        var state = 0x9E3779B97F4A7C15UL;
        foreach (var part in parts) state = Finalise(state ^ Finalise((ulong)part + 0x9E3779B97F4A7C15UL));
        return state;
    }

    /// <summary>A <see cref="Random"/> seeded from the mixed parts; .NET's seeded algorithm is stable across runs and platforms.</summary>
    public static Random Random(params long[] parts) => new((int)(Mix(parts) & int.MaxValue));

    static ulong Finalise(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
