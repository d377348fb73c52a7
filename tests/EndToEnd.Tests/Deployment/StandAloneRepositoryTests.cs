using System.Diagnostics;
using System.Text.RegularExpressions;
using SpectralDiffusion.EndToEnd.Tests.Infrastructure;

namespace SpectralDiffusion.EndToEnd.Tests.Deployment;

/// <summary>
/// The repository stands alone: no file cites the project's internal design, notes or style pages, which are not part of
/// it. What a comment needs from them belongs in the comment itself or in a page under docs/.
/// </summary>
public partial class StandAloneRepositoryTests
{
    [Fact]
    public void RepositoryFiles_OutsideDocs_CiteNoInternalPages()
    {
        var files = RepositoryFiles().Where(f => !f.StartsWith("docs/", StringComparison.Ordinal)).ToList();

        var citations = (from file in files
                         let path = Path.Combine(RepositoryRoot.Path, file)
                         where File.Exists(path) && !IsBinary(path)
                         from line in File.ReadLines(path).Select((text, index) => (text, number: index + 1))
                         where InternalPage().IsMatch(line.text)
                         select $"{file}:{line.number}: {line.text.Trim()}").ToList();

        Assert.NotEmpty(files);
        Assert.True(citations.Count == 0, "cites a page that is not in the repository:\n" + string.Join("\n", citations));
    }

    /// <summary>Tracked files and new files git would add (not ignored), relative to the root.</summary>
    static IEnumerable<string> RepositoryFiles()
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryRoot.Path };
        foreach (var argument in new[] { "ls-files", "-z", "--cached", "--others", "--exclude-standard" }) start.ArgumentList.Add(argument);
        using var git = Process.Start(start)!;
        var output = git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        Assert.True(git.ExitCode == 0, $"git ls-files failed in {RepositoryRoot.Path}: {git.StandardError.ReadToEnd()}");
        return output.Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }

    static bool IsBinary(string path)
    {
        using var stream = File.OpenRead(path);
        var head = new byte[4096];
        var read = stream.Read(head, 0, head.Length);
        return head.AsSpan(0, read).Contains((byte)0);
    }

    /// <summary>The design, notes or style page by its bare file name (.md, any case, not a path like docs/x.md), or a section reference in capitals followed by §.</summary>
    [GeneratedRegex(@"(?<![\w/.-])(?i:design|notes|style)\.md\b|\b(?:DESIGN|NOTES|STYLE)\s*§")]
    private static partial Regex InternalPage();
}
