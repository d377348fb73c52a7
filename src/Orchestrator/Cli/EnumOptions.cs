using System.CommandLine;
using System.CommandLine.Parsing;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary>
/// Options that take proto enum values by their short lower-case names (<c>--state running</c>, <c>--type distill</c>).
/// Anything else is a parse error naming the option, the value and the valid names, with a did-you-mean.
/// </summary>
public static class EnumOptions
{
    /// <summary>Repeatable: <c>--state running --state failed</c>.</summary>
    public static Option<T[]> Many<T>(string name, string what) where T : struct, Enum => new(name)
    {
        Description = $"Only {what}; repeatable",
        HelpName = string.Join("|", Names<T>()),
        AllowMultipleArgumentsPerToken = true,
        CustomParser = result => result.Tokens.Select(token => Parse<T>(result, name, token.Value)).ToArray(),
    };

    /// <summary>One value; unset is the enum's zero (unspecified: no filter).</summary>
    public static Option<T> One<T>(string name, string what) where T : struct, Enum => new(name)
    {
        Description = $"Only {what}",
        HelpName = string.Join("|", Names<T>()),
        CustomParser = result => result.Tokens.Count == 0 ? default : Parse<T>(result, name, result.Tokens[^1].Value),
    };

    /// <summary>"running" for JobState.Running: the values a user may type (the zero value, unspecified, is left out).</summary>
    public static IReadOnlyList<string> Names<T>() where T : struct, Enum =>
        Enum.GetValues<T>().Where(v => Convert.ToInt32(v) != 0).Select(v => v.ToString().ToLowerInvariant()).ToList();

    static T Parse<T>(ArgumentResult result, string option, string text) where T : struct, Enum
    {
        var names = Names<T>();
        if (names.FirstOrDefault(n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase)) is { } name)
            return Enum.Parse<T>(name, ignoreCase: true);
        result.AddError($"{option} '{Echo.Short(text)}' is not valid{Spelling.Hint(text, names)}; use one of: {string.Join(", ", names)}");
        return default;
    }
}
