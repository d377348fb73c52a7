namespace SpectralDiffusion.Shared.Jobs;

/// <summary>
/// The canonical model presets (docs/method.md) and what a spec must agree with before any worker builds one: the image
/// size the preset works on (pixel space: the dataset is resized to it), its channels, its number of resolutions
/// (channel_mult levels), its classes (0: none) and the width D of the caption embeddings it reads (0: no text). The orchestrator rejects any other name; the worker's model zoo builds
/// exactly these, and a worker test keeps the two equal.
/// </summary>
public static class KnownPresets
{
    static readonly PresetShape Ffhq = new(ImageSize: 64, Channels: 3, Resolutions: 4, Classes: 0);
    static readonly PresetShape Churches = new(ImageSize: 32, Channels: 4, Resolutions: 5, Classes: 0);
    static readonly PresetShape Cin = new(ImageSize: 64, Channels: 3, Resolutions: 4, Classes: 1000);
    static readonly PresetShape CinF8 = new(ImageSize: 32, Channels: 4, Resolutions: 3, Classes: 1000);
    static readonly PresetShape Txt2Img = new(ImageSize: 32, Channels: 4, Resolutions: 4, Classes: 0, TextContextDim: 1280);
    static readonly PresetShape StableDiffusionV1 = new(ImageSize: 64, Channels: 4, Resolutions: 4, Classes: 0, TextContextDim: 768);
    static readonly PresetShape Tiny = new(ImageSize: 32, Channels: 3, Resolutions: 3, Classes: 0);
    static readonly PresetShape TinyCin = Tiny with { Classes = 10 };
    static readonly PresetShape Tiny16 = Tiny with { ImageSize = 16 };
    static readonly PresetShape TinyTxt = Tiny with { TextContextDim = 32 };

    static readonly (string Name, PresetShape Shape)[] Presets =
    [
        ("ldm-ffhq", Ffhq), ("lite-ldm-ffhq", Ffhq), ("sd-ffhq", Ffhq),
        ("ldm-celebahq", Ffhq), ("lite-ldm-celebahq", Ffhq), ("sd-celebahq", Ffhq),
        ("ldm-churches", Churches), ("lite-ldm-churches", Churches), ("sd-churches", Churches),
        ("cin-ldm", Cin), ("cin-lite-ldm", Cin), ("cin-sd", Cin), ("cin-f8-ldm", CinF8),
        ("txt2img-ldm", Txt2Img), ("txt2img-lite-ldm", Txt2Img), ("txt2img-sd", Txt2Img),
        ("sd-v1", StableDiffusionV1), ("sd-v1-lite", StableDiffusionV1), ("sd-v1-sd", StableDiffusionV1),
        ("tiny-ldm", Tiny), ("tiny-lite-ldm", Tiny), ("tiny-sd", Tiny),
        ("tiny-cin-ldm", TinyCin), ("tiny-cin-lite-ldm", TinyCin), ("tiny-cin-sd", TinyCin),
        ("tiny16-ldm", Tiny16), ("tiny16-lite-ldm", Tiny16), ("tiny16-sd", Tiny16),
        ("tiny-txt-ldm", TinyTxt), ("tiny-txt-lite-ldm", TinyTxt), ("tiny-txt-sd", TinyTxt),
    ];

    static readonly Dictionary<string, PresetShape> Shapes = Presets.ToDictionary(p => p.Name, p => p.Shape, StringComparer.Ordinal);

    public static IReadOnlyList<string> All { get; } = Presets.Select(p => p.Name).ToArray();

    public static bool Contains(string preset) => Shapes.ContainsKey(preset);

    /// <summary>The shape of a known preset; <see cref="ArgumentException"/> for any other name.</summary>
    public static PresetShape Shape(string preset) =>
        Shapes.TryGetValue(preset, out var shape) ? shape : throw new ArgumentException($"unknown preset '{Echo.Short(preset)}'", nameof(preset));

    /// <summary>The closest known preset, for "did you mean" hints; null when nothing is close.</summary>
    public static string? Closest(string preset) => Spelling.Closest(preset, All);

    /// <summary>
    /// Why a student cannot be distilled from a teacher (both see the same x_t and conditioning, so their images, channels,
    /// classes and caption width must agree), or null when it can.
    /// </summary>
    public static string? DistillationProblem(string teacher, string student)
    {
        var (t, s) = (Shape(teacher), Shape(student));
        if (t.ImageSize != s.ImageSize)
            return $"teacher '{teacher}' works on {t.ImageSize}×{t.ImageSize} images and student '{student}' on {s.ImageSize}×{s.ImageSize}; both must see the same x_t";
        if (t.Channels != s.Channels)
            return $"teacher '{teacher}' has {t.Channels} channels and student '{student}' {s.Channels}";
        if (t.Classes != s.Classes)
            return $"teacher '{teacher}' has {Describe(t.Classes)} and student '{student}' {Describe(s.Classes)}; both must take the same labels";
        if (t.TextContextDim != s.TextContextDim)
            return $"teacher '{teacher}' reads {DescribeText(t.TextContextDim)} and student '{student}' {DescribeText(s.TextContextDim)}; both must see the same captions";
        return null;
    }

    static string Describe(int classes) => classes == 0 ? "no classes (unconditional)" : $"{classes} classes";

    static string DescribeText(int width) => width == 0 ? "no captions" : $"captions of width D = {width}";
}

/// <summary>What a preset's spec must agree with: see <see cref="KnownPresets"/>.</summary>
public sealed record PresetShape(int ImageSize, int Channels, int Resolutions, int Classes, int TextContextDim = 0);
