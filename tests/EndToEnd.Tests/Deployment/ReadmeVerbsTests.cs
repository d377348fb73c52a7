using System.CommandLine;
using System.Text.RegularExpressions;
using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Orchestrator.Cli;
using SpectralDiffusion.Worker.Cli;

namespace SpectralDiffusion.EndToEnd.Tests.Deployment;

/// <summary>
/// The README's command lines are the verbs the executables really have, and every verb an executable has is shown in
/// the README (hidden diagnostic verbs aside). A command line in a README shell code block is <c>orchestrator VERB [SUBVERB] …</c> or <c>worker …</c>;
/// <c>a | b</c> lists alternatives for the last verb (<c>show ID | watch ID</c>) and <c>encode|decode</c> alternatives in
/// one word.
/// </summary>
public partial class ReadmeVerbsTests
{
    static readonly IReadOnlyDictionary<string, Command> Executables = new Dictionary<string, Command>
    {
        ["orchestrator"] = OrchestratorCli.Build(),
        ["worker"] = WorkerCli.Build(),
    };

    [Fact]
    public void ReadmeCommandLines_EveryVerbNamed_ExistsInItsExecutable()
    {
        var lines = ReadmeCommandLines().ToList();

        var unknown = lines.SelectMany(line => UnknownVerbs(line).Select(verb => $"`{verb}` in: {line}")).ToList();

        Assert.NotEmpty(lines);
        Assert.True(unknown.Count == 0, "the README names verbs the executables do not have:\n" + string.Join("\n", unknown));
    }

    [Fact]
    public void Executables_EveryTopLevelVerb_IsShownInReadme()
    {
        var shown = ReadmeCommandLines().SelectMany(ShownTopLevelVerbs).ToHashSet();

        var missing = (from executable in Executables
                       from verb in executable.Value.Subcommands
                       where !verb.Hidden && !shown.Contains($"{executable.Key} {verb.Name}")
                       select $"{executable.Key} {verb.Name}").ToList();

        Assert.True(missing.Count == 0, "verbs missing from the README's command lists:\n" + string.Join("\n", missing));
    }

    /// <summary>Lines of the README's shell code blocks that start with an executable's name, without trailing comments.</summary>
    static IEnumerable<string> ReadmeCommandLines()
    {
        var inCode = false;
        foreach (var raw in File.ReadLines(Path.Combine(RepositoryRoot.Path, "README.md")))
        {
            var fence = raw.Trim();
            if (fence.StartsWith("```", StringComparison.Ordinal)) { inCode = !inCode && fence is "```bash" or "```sh"; continue; }
            if (!inCode) continue;
            var line = TrailingComment().Replace(raw, "").Trim();
            var first = line.Split(' ', 2)[0];
            if (Executables.ContainsKey(first)) yield return line;
        }
    }

    /// <summary>The verb paths a line names that its executable lacks, e.g. <c>orchestrator sweep lsit</c>.</summary>
    static IEnumerable<string> UnknownVerbs(string line)
    {
        var segments = line.Split(" | ");
        var words = Words(segments[0]);
        var path = new List<Command> { Executables[words[0]] };
        var names = new List<string> { words[0] };
        foreach (var word in words.Skip(1))
        {
            var current = path[^1];
            if (current.Subcommands.Count == 0 || !IsVerbWord(word)) break;
            var alternatives = word.Split('|');
            var found = alternatives.Select(name => current.Subcommands.FirstOrDefault(c => c.Name == name)).ToList();
            foreach (var (name, command) in alternatives.Zip(found))
                if (command is null) yield return string.Join(' ', names.Append(name));
            if (found.Any(c => c is null)) yield break;
            path.Add(found[0]!);
            names.Add(word);
        }

        // "show ID | watch ID | cancel ID": each alternative is a sibling of the last verb named before the first '|'.
        var parent = path.Count >= 2 ? path[^2] : path[0];
        var parentNames = names.Take(Math.Max(1, names.Count - 1));
        foreach (var segment in segments.Skip(1))
        {
            var alternative = Words(segment).FirstOrDefault();
            if (alternative is null || !IsVerbWord(alternative)) continue;
            if (parent.Subcommands.All(c => c.Name != alternative)) yield return string.Join(' ', parentNames.Append(alternative));
        }
    }

    static IEnumerable<string> ShownTopLevelVerbs(string line)
    {
        var segments = line.Split(" | ");
        var words = Words(segments[0]);
        if (words.Length < 2) yield break;
        foreach (var verb in words[1].Split('|')) yield return $"{words[0]} {verb}";
        if (Executables[words[0]].Subcommands.Any(c => c.Name == words[1] && c.Subcommands.Count > 0)) yield break;
        foreach (var segment in segments.Skip(1))
            if (Words(segment).FirstOrDefault() is { } alternative && IsVerbWord(alternative)) yield return $"{words[0]} {alternative}";
    }

    static string[] Words(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A verb is lower-case letters and dashes (arguments are paths, ids, options or placeholders).</summary>
    static bool IsVerbWord(string word) => VerbWord().IsMatch(word);

    [GeneratedRegex(@"^[a-z][a-z-]*(\|[a-z][a-z-]*)*$")]
    private static partial Regex VerbWord();

    [GeneratedRegex(@"\s+#.*$")]
    private static partial Regex TrailingComment();
}
