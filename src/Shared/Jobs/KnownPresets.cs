namespace SpectralDiffusion.Shared.Jobs;

/// <summary>The canonical model presets (docs/method.md). The orchestrator rejects any other name; the worker's model zoo builds exactly these.</summary>
public static class KnownPresets
{
    public static IReadOnlyList<string> All { get; } =
    [
        "ldm-ffhq", "lite-ldm-ffhq", "sd-ffhq",
        "ldm-celebahq", "lite-ldm-celebahq", "sd-celebahq",
        "ldm-churches", "lite-ldm-churches", "sd-churches",
        "cin-ldm", "cin-lite-ldm", "cin-sd",
        "tiny-ldm", "tiny-lite-ldm", "tiny-sd",
        "tiny-cin-ldm", "tiny-cin-lite-ldm", "tiny-cin-sd",
    ];

    static readonly HashSet<string> Names = new(All, StringComparer.Ordinal);

    public static bool Contains(string preset) => Names.Contains(preset);

    /// <summary>The closest known preset, for "did you mean" hints; null when nothing is close.</summary>
    public static string? Closest(string preset) => Spelling.Closest(preset, All);
}
