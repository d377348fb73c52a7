using System.Text.RegularExpressions;

namespace SpectralDiffusion.Orchestrator.Artifacts;

/// <summary>
/// The names a job's published files go by (<c>samples.png</c>, <c>gates.png</c>): a plain file name of letters, digits,
/// '.', '_' and '-', starting with a letter or digit, at most 100 characters. No separators and no leading dot, so a name
/// can never address anything but its own row; the dashboard looks files up by (job, name) in the database and opens
/// them by content hash, never by this name. The same pattern is the job_files table's CHECK (migration 0009).
/// </summary>
public static partial class JobFileName
{
    public const string Rule = "a plain file name: letters, digits, '.', '_' or '-', starting with a letter or digit, at most 100 characters";

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
