using System.Text;
using System.Text.Json;

namespace SpectralDiffusion.Orchestrator.Artifacts;

/// <summary>
/// The kinds of job file the product writes (PNG plots and grids, CSV metrics, JSON reports), recognised by their content:
/// a name's extension must agree with what the bytes are. PNG starts with its 8-byte signature; CSV is UTF-8 text without
/// control characters other than tab and line breaks; JSON is UTF-8 that parses. Anything else (an SVG, HTML, a script)
/// is refused at upload, so the dashboard never serves content a browser would run.
/// </summary>
public static class JobFileContent
{
    public const string Rule = "job files are PNG images (.png), CSV text (.csv) or JSON (.json), checked by content";

    /// <summary>The longest text file checked by parsing (the product's CSV and JSON files are far smaller).</summary>
    public const long MaxTextBytes = 64L * 1024 * 1024;

    static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The served media type of an accepted name, or null when the name's extension is not one the product writes.</summary>
    public static string? MediaType(string name) => Path.GetExtension(name).ToLowerInvariant() switch
    {
        ".png" => "image/png",
        ".csv" => "text/csv; charset=utf-8",
        ".json" => "application/json",
        _ => null,
    };

    /// <summary>Whether a browser may show the file in place (images); text is downloaded as an attachment.</summary>
    public static bool IsShownInline(string name) => MediaType(name) == "image/png";

    /// <summary>Why <paramref name="content"/> may not be published as <paramref name="name"/>, or null when it may.</summary>
    public static string? Problem(string name, Stream content)
    {
        var extension = Path.GetExtension(name).ToLowerInvariant();
        if (MediaType(name) is null) return $"'{extension}' is not a job file type";
        if (extension == ".png")
        {
            Span<byte> head = stackalloc byte[8];
            return content.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length && head.SequenceEqual(PngSignature)
                ? null : "the content does not start with the PNG signature";
        }
        if (content.Length > MaxTextBytes) return $"text files are at most {MaxTextBytes} bytes";
        var bytes = new byte[content.Length];
        content.ReadExactly(bytes);
        string text;
        try { text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
        catch (DecoderFallbackException) { return "the content is not valid UTF-8 text"; }
        if (extension == ".json")
        {
            try { using var _ = JsonDocument.Parse(bytes); }
            catch (JsonException e) { return $"the content is not valid JSON ({e.Message})"; }
            return null;
        }
        var control = text.IndexOfAny(ControlCharacters);
        return control < 0 ? null : $"the content holds control character U+{(int)text[control]:X4} at offset {control}";
    }

    static readonly char[] ControlCharacters = Enumerable.Range(0, 32).Where(c => c is not ('\t' or '\n' or '\r')).Select(c => (char)c).Append('\x7f').ToArray();
}
