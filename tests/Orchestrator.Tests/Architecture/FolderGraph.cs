using System.Text.RegularExpressions;

namespace SpectralDiffusion.Orchestrator.Tests.Architecture;

/// <summary>
/// Which top-level folders of a project import which, read from its <c>using</c> lines (plain, <c>static</c> and alias
/// forms, in .cs and .cshtml files): a file in folder A with <c>using SpectralDiffusion.Project.B…</c> makes an edge A → B.
/// </summary>
public sealed partial class FolderGraph
{
    readonly SortedDictionary<string, SortedSet<string>> edges = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Folders => edges.Keys;

    public IReadOnlySet<string> ImportsOf(string folder) => edges.TryGetValue(folder, out var targets) ? targets : new SortedSet<string>();

    public void Add(string from, string to)
    {
        Folder(from);
        Folder(to);
        if (from != to) edges[from].Add(to);
    }

    SortedSet<string> Folder(string name) =>
        edges.TryGetValue(name, out var targets) ? targets : edges[name] = new SortedSet<string>(StringComparer.Ordinal);

    /// <summary>Reads every source file under <paramref name="projectRoot"/> but bin/ and obj/; files at the root belong to no folder.</summary>
    public static FolderGraph Read(string projectRoot, string rootNamespace)
    {
        var graph = new FolderGraph();
        var files = Directory.EnumerateFiles(projectRoot, "*.cs*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".cshtml", StringComparison.Ordinal));
        foreach (var file in files)
        {
            var parts = Path.GetRelativePath(projectRoot, file).Split(Path.DirectorySeparatorChar);
            if (parts.Length < 2 || parts[0] is "bin" or "obj") continue;
            graph.Folder(parts[0]);
            foreach (var line in File.ReadLines(file))
                if (UsingLine().Match(line) is { Success: true } match && match.Groups["namespace"].Value.StartsWith(rootNamespace + ".", StringComparison.Ordinal))
                    graph.Add(parts[0], match.Groups["namespace"].Value[(rootNamespace.Length + 1)..].Split('.')[0]);
        }
        return graph;
    }

    /// <summary>One import loop as the folders along it, first folder repeated at the end (A → B → A), or null when there is none.</summary>
    public IReadOnlyList<string>? FindCycle()
    {
        var state = new Dictionary<string, Visit>(StringComparer.Ordinal);
        var path = new List<string>();
        foreach (var start in edges.Keys)
            if (!state.ContainsKey(start) && Walk(start) is { } cycle)
                return cycle;
        return null;

        List<string>? Walk(string folder)
        {
            state[folder] = Visit.OnPath;
            path.Add(folder);
            foreach (var next in ImportsOf(folder))
            {
                if (state.GetValueOrDefault(next) == Visit.OnPath) return [.. path[path.IndexOf(next)..], next];
                if (!state.ContainsKey(next) && Walk(next) is { } cycle) return cycle;
            }
            path.RemoveAt(path.Count - 1);
            state[folder] = Visit.Done;
            return null;
        }
    }

    /// <summary>The edges that go against <paramref name="order"/> (a folder importing one listed after it), and folders the order omits.</summary>
    public IEnumerable<string> Violations(IReadOnlyList<string> layers)
    {
        var order = layers.ToList();
        foreach (var folder in edges.Keys.Where(f => !order.Contains(f))) yield return $"{folder} is not in the order";
        foreach (var (from, targets) in edges)
            foreach (var to in targets.Where(t => order.Contains(from) && order.Contains(t) && order.IndexOf(t) > order.IndexOf(from)))
                yield return $"{from} -> {to}";
    }

    enum Visit { OnPath = 1, Done }

    [GeneratedRegex(@"^\s*@?using\s+(?:static\s+)?(?:\w+\s*=\s*)?(?<namespace>[\w.]+)\s*;?\s*$")]
    private static partial Regex UsingLine();
}
