namespace SpectralDiffusion.EndToEnd.Tests.Infrastructure;

/// <summary>The repository checkout these tests were built from (the folder above the test output holding Orchestrator.sln).</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "Orchestrator.sln"))) return directory.FullName;
        throw new DirectoryNotFoundException("repository root (Orchestrator.sln) not found above the test output");
    }
}
