using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Evaluation;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Evaluation;

public class FidCalculatorTests
{
    [Fact]
    public void Fid_FolderAgainstItselfAndAnother_ZeroAndPositive()
    {
        // Arrange: random Inception weights at the smallest input size keep this cheap.
        TorchRuntime.EnsureLoaded();
        manual_seed(1);
        using var folder = new TemporaryFolder();
        ImageFiles.SavePngs(new ProceduralTextureDataset(6, 16, seed: 1).GetRange(0, 6), folder.Combine("a"));
        ImageFiles.SavePngs(rand([6, 3, 16, 16], generator: new Generator(2)) * 2 - 1, folder.Combine("b"));
        var first = new ImageFolderDataset(folder.Combine("a"));
        var second = new ImageFolderDataset(folder.Combine("b"));
        using var model = new FidInceptionV3(inputSize: 75);
        VariancePreservingInit(model);
        var calculator = new FidCalculator(model, batchSize: 4);
        var progress = new List<long>();

        // Act
        var statistics = calculator.Statistics(first, (done, _) => progress.Add(done));
        var self = FrechetDistance.Compute(statistics, calculator.Statistics(first));
        var other = FrechetDistance.Compute(statistics, calculator.Statistics(second));

        // Assert
        var scale = Enumerable.Range(0, 2048).Sum(i => statistics.Covariance[i, i]);
        Assert.True(Math.Abs(self) <= 1e-4 * scale,   // rank-5 Σ in 2048-d: √ of rounding-level eigenvalues adds up to ~1e-5 · tr Σ
             $"FID(a, a) = {self} with tr Σ = {scale}");
        Assert.True(other > 1e-2 * scale, $"FID(a, b) = {other} should be clearly positive (tr Σ = {scale})");
        Assert.Equal([4L, 6L], progress);
    }

    /// <summary>Kaiming-normal convolutions so random features neither vanish nor explode through the 94 layers.</summary>
    static void VariancePreservingInit(FidInceptionV3 model)
    {
        using var _ = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
            if (name.EndsWith("conv.weight", StringComparison.Ordinal))
                TorchSharp.torch.nn.init.kaiming_normal_(parameter, nonlinearity: TorchSharp.torch.nn.init.NonlinearityType.ReLU);
    }
}
