using System.Text.RegularExpressions;

namespace SpectralDiffusion.Orchestrator.Tests.Architecture;

/// <summary>The folders of every src project import one another one way only; the orchestrator's order is the documented one.</summary>
public partial class FolderDependencyTests
{
    internal static readonly string Repository = FindRepository();

    [Theory]
    [InlineData("Orchestrator")]
    [InlineData("Worker")]
    [InlineData("Shared")]
    public void Imports_SourceProject_NoFolderLoop(string project)
    {
        var graph = FolderGraph.Read(Path.Combine(Repository, "src", project), "SpectralDiffusion." + project);

        var cycle = graph.FindCycle();

        Assert.True(graph.Folders.Count > 1, $"no folders read under src/{project}");
        Assert.True(cycle is null, $"src/{project} has an import loop among its folders: {string.Join(" -> ", cycle ?? [])}");
    }

    [Fact]
    public void Imports_Orchestrator_FollowTheDocumentedOrder()
    {
        var graph = FolderGraph.Read(Path.Combine(Repository, "src", "Orchestrator"), "SpectralDiffusion.Orchestrator");
        var order = DocumentedOrder(File.ReadAllText(Path.Combine(Repository, "docs", "architecture-orchestrator.md")));

        var violations = graph.Violations(order).ToList();

        Assert.True(violations.Count == 0, "docs/architecture-orchestrator.md's folder order is broken by: " + string.Join("; ", violations));
    }

    [Fact]
    public void FindCycle_ThreeFoldersInALoop_NamesTheLoop()
    {
        var graph = new FolderGraph();
        graph.Add("Hosting", "Domain");
        graph.Add("Persistence", "Sweeps");
        graph.Add("Sweeps", "Hosting");
        graph.Add("Hosting", "Persistence");

        var cycle = graph.FindCycle();

        Assert.NotNull(cycle);
        Assert.Equal(cycle[0], cycle[^1]);
        Assert.Equal(["Hosting", "Persistence", "Sweeps"], cycle.Skip(1).Order());
    }

    [Fact]
    public void FindCycle_DiamondWithoutLoop_ReturnsNull()
    {
        var graph = new FolderGraph();
        graph.Add("Services", "Scheduling");
        graph.Add("Services", "Persistence");
        graph.Add("Scheduling", "Persistence");
        graph.Add("Persistence", "Domain");

        Assert.Null(graph.FindCycle());
    }

    [Fact]
    public void Read_UsingForms_EachMakesAnEdge()
    {
        var root = Directory.CreateTempSubdirectory("folder-graph-").FullName;
        try
        {
            Write(root, "A/One.cs", "using System;\nusing P.Root.B;\nusing Alias = P.Root.C.Type;\nusing static P.Root.D.Helpers;\nusing P.RootOther.E;\nnamespace P.Root.A;");
            Write(root, "A/Page.cshtml", "@using P.Root.F");
            Write(root, "Program.cs", "using P.Root.A;");
            Write(root, "obj/Generated.cs", "namespace P.Root.G; using P.Root.A;");

            var graph = FolderGraph.Read(root, "P.Root");

            Assert.Equal(["B", "C", "D", "F"], graph.ImportsOf("A"));
            Assert.DoesNotContain("obj", graph.Folders);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Violations_ImportOfALaterFolder_Named()
    {
        var graph = new FolderGraph();
        graph.Add("Persistence", "Domain");
        graph.Add("Domain", "Persistence");
        graph.Add("Extra", "Domain");

        var violations = graph.Violations(["Domain", "Persistence"]).ToList();

        Assert.Equal(["Extra is not in the order", "Domain -> Persistence"], violations);
    }

    /// <summary>The numbered list under the "Folder order" heading: <c>1. `Domain` …</c>, lowest first.</summary>
    static List<string> DocumentedOrder(string markdown)
    {
        var section = markdown[markdown.IndexOf("## Folder order", StringComparison.Ordinal)..];
        var end = section.IndexOf("\n## ", 3, StringComparison.Ordinal);
        return OrderItem().Matches(end < 0 ? section : section[..end]).Select(m => m.Groups["folder"].Value).ToList();
    }

    internal static void Write(string root, string relative, string text)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    static string FindRepository()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "Orchestrator.sln"))) return directory.FullName;
        throw new DirectoryNotFoundException("Orchestrator.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^\d+\.\s+`(?<folder>\w+)`", RegexOptions.Multiline)]
    private static partial Regex OrderItem();
}
