using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Worker.Tests.Models;

/// <summary>The FFHQ presets reproduce the parameter and MAC counts of the CompVis code and the paper (docs/method.md).</summary>
public class PaperSizeTests
{
    public PaperSizeTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void LdmFfhq_Instantiated_HasCompVisParameterCountAndPaperMacs()
    {
        using var model = new UNetModel(UNetPresets.LdmFfhq());

        Assert.Equal(274_056_163L, ModelStatistics.CountParameters(model));
        AssertWithinOnePercent(96.0e9, ModelStatistics.CountMacs(model, 64, 64));
    }

    [Fact]
    public void LiteLdmFfhq_Instantiated_HasCompVisParameterCountAndPaperMacs()
    {
        using var model = new UNetModel(UNetPresets.LiteLdmFfhq());

        Assert.Equal(22_411_843L, ModelStatistics.CountParameters(model));
        AssertWithinOnePercent(7.85e9, ModelStatistics.CountMacs(model, 64, 64));
    }

    [Fact]
    public void SdFfhq_Instantiated_MatchesPaperWithinOnePercent()
    {
        using var model = new UNetModel(UNetPresets.SdFfhq());

        AssertWithinOnePercent(21.05e6, ModelStatistics.CountParameters(model));
        AssertWithinOnePercent(6.66e9, ModelStatistics.CountMacs(model, 64, 64));
    }

    static void AssertWithinOnePercent(double expected, long actual) =>
        Assert.True(Math.Abs(actual - expected) <= 0.01 * expected, $"expected {expected:N0} ± 1%, got {actual:N0}");
}
