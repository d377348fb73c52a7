using System.Text.RegularExpressions;

namespace SpectralDiffusion.Orchestrator.Tests.Architecture;

/// <summary>
/// The generated proto types stop at the edge: only `Services/` (the gRPC services, which map) and `Cli/` (the gRPC
/// clients) of src/Orchestrator may name <c>SpectralDiffusion.Shared.Contracts.V1</c>; the domain, persistence, delivery
/// and every other folder work on the orchestrator's own types.
/// </summary>
public partial class LayeringTests
{
    static readonly string[] EdgeFolders = ["Services", "Cli"];

    [Fact]
    public void ProtoImporters_OutsideTheEdge_None()
    {
        var importers = ProtoImporters(Path.Combine(FolderDependencyTests.Repository, "src", "Orchestrator"));

        var unexpected = importers.Where(f => !EdgeFolders.Contains(f.Split('/')[0])).ToList();

        Assert.True(importers.Count > 0, "no proto users read under src/Orchestrator: the services should be among them");
        Assert.True(unexpected.Count == 0,
            "these files use the generated proto types outside Services/ and Cli/; map them in Services/ instead: " + string.Join(", ", unexpected));
    }

    [Fact]
    public void ProtoImporters_UsingAliasAndQualifiedForms_EachFound()
    {
        var root = Directory.CreateTempSubdirectory("layering-").FullName;
        try
        {
            FolderDependencyTests.Write(root, "Domain/Plain.cs", "namespace P.Domain;\npublic record Plain(int Value);");
            FolderDependencyTests.Write(root, "Domain/Using.cs", "using SpectralDiffusion.Shared.Contracts.V1;\nnamespace P.Domain;");
            FolderDependencyTests.Write(root, "Persistence/Alias.cs", "using JobState = SpectralDiffusion.Shared.Contracts.V1.JobState;");
            FolderDependencyTests.Write(root, "Delivery/Qualified.cs", "class C { Shared.Contracts.V1.Assignment? a; }");
            FolderDependencyTests.Write(root, "Dashboard/Pages/Page.cshtml", "@using SpectralDiffusion.Shared.Contracts.V1");
            FolderDependencyTests.Write(root, "obj/Generated.cs", "namespace SpectralDiffusion.Shared.Contracts.V1;");

            var importers = ProtoImporters(root);

            Assert.Equal(["Dashboard/Pages/Page.cshtml", "Delivery/Qualified.cs", "Domain/Using.cs", "Persistence/Alias.cs"], importers);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The source files under <paramref name="root"/> (build outputs aside) that name the proto namespace, as sorted relative paths.</summary>
    static List<string> ProtoImporters(string root) =>
        Directory.EnumerateFiles(root, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".cshtml", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(f => !f.StartsWith("obj/", StringComparison.Ordinal) && !f.StartsWith("bin/", StringComparison.Ordinal))
            .Where(f => ProtoNamespace().IsMatch(File.ReadAllText(Path.Combine(root, f))))
            .Order(StringComparer.Ordinal).ToList();

    [GeneratedRegex(@"\bContracts\.V1\b")]
    private static partial Regex ProtoNamespace();
}
