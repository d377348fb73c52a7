using System.Text.Json;
using SpectralDiffusion.Worker.Cli;
using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Worker.Tests.Cli;

public class EvaluateCommandTests
{
    [Fact]
    public void Spectrum_TwoProceduralFolders_WritesErrorsAndPlot()
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryFolder();
        ImageFiles.SavePngs(new ProceduralTextureDataset(6, 16, seed: 1).GetRange(0, 6), folder.Combine("real"));
        ImageFiles.SavePngs(new ProceduralTextureDataset(6, 16, seed: 2).GetRange(0, 6), folder.Combine("generated"));

        // Act
        var exitCode = WorkerCli.Build().Parse(["evaluate", "spectrum", "--real", folder.Combine("real"), "--generated", folder.Combine("generated"),
            "--out", folder.Combine("out"), "--json"]).Invoke();

        // Assert
        Assert.Equal(0, exitCode);
        Assert.True(File.Exists(folder.Combine("out", "power-spectrum.png")));
        using var result = JsonDocument.Parse(File.ReadAllText(folder.Combine("out", "frequency-errors.json")));
        Assert.True(result.RootElement.GetProperty("high_frequency_error").GetDouble() > 0);
        Assert.Equal(28.0 * 16 / 256, result.RootElement.GetProperty("cutoff").GetDouble());
    }

    [Fact]
    public void Fid_WithoutWeights_FailsPointingToDocs()
    {
        using var folder = new TemporaryFolder();

        var (exitCode, error) = WorkerCliRun.Invoke("evaluate", "fid", "--real", folder.Path, "--generated", folder.Path);

        Assert.Equal(2, exitCode);
        Assert.Contains("docs/fid-weights.md", error);
    }
}
