using System.Text;

namespace SpectralDiffusion.Orchestrator.RankLogs;

/// <summary>
/// A shipped line made storable: bytes decoded as UTF-8 with invalid sequences replaced (U+FFFD), NUL shown as U+2400
/// (PostgreSQL text cannot hold it), and cut to a maximum length.
/// </summary>
public static class LogText
{
    public const char NulSymbol = '\u2400';
    static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    public static string Storable(ReadOnlySpan<byte> text, int maxChars)
    {
        var decoded = Utf8.GetString(text).Replace('\0', NulSymbol);
        if (decoded.Length <= maxChars) return decoded;
        // Do not split a surrogate pair: the cut would leave half a character.
        var cut = char.IsHighSurrogate(decoded[maxChars - 2]) ? maxChars - 2 : maxChars - 1;
        return decoded[..cut] + "…";
    }

    /// <summary>The level as stored: one of Serilog's three-letter names, anything else "INF".</summary>
    public static string Level(string level) => level.ToUpperInvariant() switch
    {
        "VRB" or "DBG" or "INF" or "WRN" or "ERR" or "FTL" => level.ToUpperInvariant(),
        _ => "INF",
    };
}
