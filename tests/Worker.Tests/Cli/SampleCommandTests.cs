using SpectralDiffusion.Worker.Tests.TestSupport;

namespace SpectralDiffusion.Worker.Tests.Cli;

public class SampleCommandTests
{
    [Fact]
    public void Sample_DdimStepsWithoutAnExactGrid_FailsBeforeLoadingNamingTheFlagAndNeighbours()
    {
        using var folder = new TemporaryFolder();

        var (exitCode, error) = WorkerCliRun.Invoke("sample", "--checkpoint", folder.Combine("missing.safetensors"), "--steps", "3",
            "--out", folder.Combine("samples"));

        Assert.Equal(2, exitCode);
        Assert.Contains("--steps 3:", error);
        Assert.Contains("use 2 or 4", error);
        Assert.DoesNotContain("missing.safetensors", error);
    }
}
