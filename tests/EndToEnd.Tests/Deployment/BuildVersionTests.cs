using System.Text.RegularExpressions;
using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Orchestrator.Cli;
using SpectralDiffusion.Shared.Build;
using SpectralDiffusion.Worker.Cli;

namespace SpectralDiffusion.EndToEnd.Tests.Deployment;

/// <summary>The orchestrator and the worker of one build report one version: the repository's prefix plus the commit.</summary>
public partial class BuildVersionTests
{
    [Fact]
    public void Of_OrchestratorAndWorker_SameVersionFromTheRepository()
    {
        var prefix = VersionPrefix().Match(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "Directory.Build.props"))).Groups[1].Value;

        var orchestrator = BuildVersion.Of(typeof(OrchestratorCli).Assembly);
        var worker = BuildVersion.Of(typeof(WorkerCli).Assembly);

        Assert.NotEmpty(prefix);
        Assert.Equal(orchestrator, worker);
        Assert.StartsWith(prefix, worker);
        Assert.NotEqual("1.0.0.0", worker);
    }

    [GeneratedRegex("<VersionPrefix>([^<]+)</VersionPrefix>")]
    private static partial Regex VersionPrefix();
}
