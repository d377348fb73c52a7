using System.Text;

namespace SpectralDiffusion.Shared.Jobs;

/// <summary>
/// How a value a client sent is quoted back in an error or a log line: at most <see cref="MaxLength"/> characters (a
/// 100 KB id is not echoed whole) and control characters written as escapes (a NUL stays visible and harmless).
/// </summary>
public static class Echo
{
    public const int MaxLength = 64;

    public static string Short(string value)
    {
        var cut = value.Length <= MaxLength ? value.Length : char.IsHighSurrogate(value[MaxLength - 1]) ? MaxLength - 1 : MaxLength;
        var text = new StringBuilder(cut + 24);
        foreach (var c in value.AsSpan(0, cut))
            if (char.IsControl(c)) text.Append($"\\u{(int)c:x4}");
            else text.Append(c);
        if (cut < value.Length) text.Append($"… ({value.Length} characters)");
        return text.ToString();
    }
}
