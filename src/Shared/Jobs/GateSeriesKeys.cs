using System.Globalization;

namespace SpectralDiffusion.Shared.Jobs;

/// <summary>
/// How an evaluation records the mean wavelet gate per band at each denoising step in its <c>extra</c> numbers:
/// <c>gate_ll_step_003</c> for the trained model and <c>gate_ll_init_step_003</c> for the same preset at initialisation on the
/// same inputs (step 0 is the noisiest). The worker writes these keys and the sweep report reads them.
/// </summary>
public static class GateSeriesKeys
{
    public static readonly string[] Bands = ["LL", "LH", "HL", "HH"];
    const string Prefix = "gate_", InitialMarker = "_init", StepMarker = "_step_";

    public static string Trained(string band, int step) => $"{Prefix}{band.ToLowerInvariant()}{StepMarker}{step:D3}";
    public static string Initial(string band, int step) => $"{Prefix}{band.ToLowerInvariant()}{InitialMarker}{StepMarker}{step:D3}";

    public static bool IsGateKey(string key) => key.StartsWith(Prefix, StringComparison.Ordinal) && key.Contains(StepMarker, StringComparison.Ordinal);

    /// <summary>Reads a key written by <see cref="Trained"/> or <see cref="Initial"/>.</summary>
    public static bool TryParse(string key, out string band, out int step, out bool initial)
    {
        (band, step, initial) = ("", 0, false);
        if (!IsGateKey(key)) return false;
        var marker = key.LastIndexOf(StepMarker, StringComparison.Ordinal);
        var head = key[Prefix.Length..marker];
        initial = head.EndsWith(InitialMarker, StringComparison.Ordinal);
        if (initial) head = head[..^InitialMarker.Length];
        band = head.ToUpperInvariant();
        return Bands.Contains(band) && int.TryParse(key[(marker + StepMarker.Length)..], NumberStyles.None, CultureInfo.InvariantCulture, out step);
    }
}
