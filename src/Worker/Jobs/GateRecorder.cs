using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Sampling;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>The mean gate per band (<see cref="GateSeriesKeys.Bands"/>) at one denoising step, trained and at initialisation.</summary>
public sealed record GateReading(int Step, float[] Trained, float[] Initial);

/// <summary>
/// Records the mean gate per band at each denoising step of the batch it hooks, for the trained model and for the same
/// preset at initialisation run on the same inputs: how far training moved the gates.
/// </summary>
public sealed class GateRecorder : IDisposable
{
    readonly UNetModel trained, initial;
    readonly List<GateReading> readings = [];

    GateRecorder(UNetModel trained, UNetModel initial) => (this.trained, this.initial) = (trained, initial);

    /// <summary>A recorder for a wavelet-gated model (its preset initialised with <paramref name="seed"/>); null for other models.</summary>
    public static GateRecorder? For(UNetModel trained, ModelSpec spec, long seed)
    {
        if (!trained.Config.WaveletGating) return null;
        // The same preset with the same gate initialisation, untrained.
        var initial = ModelLoader.Load(new ModelSpec { Preset = spec.Preset, GateInit = spec.GateInit }, null, seed);
        initial.eval();
        return new GateRecorder(trained, initial);
    }

    public IReadOnlyList<GateReading> Readings => readings;

    /// <summary>Runs the untrained copy beside the trained model on every input, and reads both models' gates after each step.</summary>
    public DenoisingHooks Hooks => new(
        (x, t, c) =>
        {
            var eps = trained.forward(x, t, c);
            initial.forward(x, t, c).Dispose();
            return eps;
        },
        (step, _) => readings.Add(new GateReading(step, MeanGatePerBand(trained), MeanGatePerBand(initial))));

    static float[] MeanGatePerBand(UNetModel model)
    {
        var snapshot = model.GateSnapshot();
        var mean = new float[GateSeriesKeys.Bands.Length];
        foreach (var (_, bands) in snapshot)
            for (var b = 0; b < mean.Length; b++) mean[b] += bands[b] / snapshot.Count;
        return mean;
    }

    public void Dispose() => initial.Dispose();
}
