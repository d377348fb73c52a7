using SpectralDiffusion.Worker.Data;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Sampling;

/// <summary>
/// Where each batch of samples draws its random numbers (x_T, DDIM/DDPM noise, random classes): one stream for the whole
/// run, or a fresh generator per batch seeded from the index of its first sample, so that a rank's share does not depend
/// on what the other ranks drew.
/// </summary>
public sealed class SampleSeeds : IDisposable
{
    readonly long? perBatchSeed;
    Generator? generator;

    SampleSeeds(Generator? generator, long? perBatchSeed) => (this.generator, this.perBatchSeed) = (generator, perBatchSeed);

    /// <summary>One generator seeded once with <paramref name="seed"/>; each batch continues where the previous one stopped.</summary>
    public static SampleSeeds OneStream(long seed) => new(new Generator((ulong)seed), null);

    /// <summary>A generator per batch, seeded from (<paramref name="seed"/>, the batch's first sample index).</summary>
    public static SampleSeeds PerBatch(long seed) => new(null, seed);

    /// <summary>The generator of the batch that starts at sample <paramref name="firstSample"/>; valid until the next call.</summary>
    public Generator ForBatch(int firstSample)
    {
        if (perBatchSeed is not long seed) return generator!;
        generator?.Dispose();
        return generator = new Generator((ulong)SeedMixer.StepSeed(seed, firstSample));
    }

    public void Dispose() => generator?.Dispose();
}
