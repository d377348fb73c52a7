using System.Globalization;
using SpectralDiffusion.Worker.Training;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>The overlap mode a <see cref="GradientSynchronizer"/> settled on, and the measurement behind it.</summary>
/// <param name="OffMilliseconds">median synchronisation time without overlap, mean over the ranks (NaN when not measured).</param>
/// <param name="OnMilliseconds">the same with overlap.</param>
/// <param name="Reason">why, when the choice was not measured.</param>
public sealed record GradientOverlapChoice(bool Overlap, double OffMilliseconds, double OnMilliseconds, string? Reason = null)
{
    public string Mode => Overlap ? "on" : "off";

    /// <summary>"sync 31.2 ms/step with overlap, 28.0 ms without", or the reason.</summary>
    public string Measurement => Reason ?? string.Create(CultureInfo.InvariantCulture,
        $"gradient sync {OnMilliseconds:0.0} ms/step with overlap, {OffMilliseconds:0.0} ms without");

    public override string ToString() => $"gradient overlap: {Mode} ({Measurement})";
}

/// <summary>
/// How <see cref="GradientOverlap.Auto"/> decides: after the warm-up, trial steps run with overlap off, on, on, off, off,
/// on, ... (each mode as often first as second, so a drift in the machine's load hits both alike), each timing its
/// synchronisation. Each rank then contributes the median of each mode; the collective sums them, and since every rank
/// receives the same sum, every rank makes the same choice. Overlap is kept only when strictly faster.
/// </summary>
public sealed class OverlapTrial(int warmupSteps, int trialSteps)
{
    readonly List<double> off = [], on = [];

    /// <summary>Synchronisations recorded so far.</summary>
    public int Steps { get; private set; }

    /// <summary>Every trial step has been recorded: time to exchange the medians.</summary>
    public bool Finished => Steps >= warmupSteps + 2 * trialSteps;

    /// <summary>Whether synchronisation number <paramref name="step"/> (from 0) runs with overlap.</summary>
    public static bool Overlaps(int step, int warmupSteps) => step >= warmupSteps && (step - warmupSteps) % 4 is 1 or 2;

    /// <summary>Whether the next synchronisation runs with overlap.</summary>
    public bool NextOverlaps => !Finished && Overlaps(Steps, warmupSteps);

    /// <summary>Records the next synchronisation's duration (warm-up steps are not kept).</summary>
    public void Record(double seconds)
    {
        if (Steps >= warmupSteps && !Finished) (Overlaps(Steps, warmupSteps) ? on : off).Add(seconds);
        Steps++;
    }

    /// <summary>This rank's median seconds without and with overlap.</summary>
    public (double Off, double On) Medians() =>
        (off.Count == 0 ? double.NaN : StepPhases.Median(off), on.Count == 0 ? double.NaN : StepPhases.Median(on));

    /// <summary>The choice from the medians summed over <paramref name="worldSize"/> ranks.</summary>
    public static GradientOverlapChoice Choose(double offSecondsSum, double onSecondsSum, int worldSize) =>
        new(onSecondsSum < offSecondsSum, offSecondsSum / worldSize * 1e3, onSecondsSum / worldSize * 1e3);
}
