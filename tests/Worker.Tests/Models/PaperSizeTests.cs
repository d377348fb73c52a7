using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Worker.Tests.Models;

/// <summary>
/// The presets reproduce the parameter and MAC counts of the CompVis code and the paper (docs/method.md). The CompVis
/// figures were counted on a PyTorch build of CompVis openaimodel.UNetModel with its configs' arguments (ptflops rules:
/// conv and linear multiply-adds with bias, batch 1, the attention products left out; a class context is 1 row, a caption 77).
/// Parameters leave out the class embedder, as the paper's Table 3 does.
/// </summary>
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

    [Theory]
    [InlineData("cin-ldm", 400_920_579L, 99_798_523_008L)]        // CompVis cin256-v2; paper 400.9M / 99.8G
    [InlineData("cin-lite-ldm", 47_026_179L, 11_106_953_600L)]    // model_channels 64; paper 47.0M / 11.1G
    public void CinPreset_Instantiated_HasCompVisCountsWithoutTheClassEmbedder(string preset, long parameters, long macs)
    {
        using var model = new UNetModel(UNetPresets.Get(preset));

        Assert.Equal(1001L * 512, ModelStatistics.CountConditioningEmbeddingParameters(model));
        Assert.Equal(parameters, ModelStatistics.CountParameters(model) - ModelStatistics.CountConditioningEmbeddingParameters(model));
        Assert.Equal(macs, ModelStatistics.CountMacs(model, 64, 64));
    }

    [Fact]
    public void CinSd_Instantiated_MatchesPaperTable3()
    {
        using var model = new UNetModel(UNetPresets.CinSd());

        var parameters = ModelStatistics.CountParameters(model) - ModelStatistics.CountConditioningEmbeddingParameters(model);
        Assert.Equal(CinSdParameters, parameters);                      // paper 45.4M
        Assert.Equal(CinSdMacs, ModelStatistics.CountMacs(model, 64, 64));  // paper 9.9G
    }

    const long CinSdParameters = 45_378_819, CinSdMacs = 9_829_931_648;

    [Theory]
    [InlineData("txt2img-ldm", 872_300_484L, 86_780_109_056L)]       // the UNet of CompVis txt2img-1p4B (LDM-KL-8-G), 77 context rows
    [InlineData("txt2img-lite-ldm", 85_314_340L, 8_335_039_360L)]   // model_channels 96 (docs/method.md, text-to-image students)
    [InlineData("txt2img-sd", 81_248_476L, 7_507_227_544L)]         // paper 77.6M: the closest width, +4.7%
    public void TextPreset_Instantiated_HasCompVisCounts(string preset, long parameters, long macs)
    {
        using var model = new UNetModel(UNetPresets.Get(preset));

        Assert.Equal(0, ModelStatistics.CountConditioningEmbeddingParameters(model));
        Assert.Equal(parameters, ModelStatistics.CountParameters(model));
        Assert.Equal(macs, ModelStatistics.CountMacs(model, 32, 32));
    }

    static void AssertWithinOnePercent(double expected, long actual) =>
        Assert.True(Math.Abs(actual - expected) <= 0.01 * expected, $"expected {expected:N0} ± 1%, got {actual:N0}");
}
