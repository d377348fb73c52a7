using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Models;

public class UNetModelTests
{
    public UNetModelTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Constructor_LdmConfig_UsesCompVisParameterNamesAndShapes()
    {
        using var model = new UNetModel(UNetPresets.TinyLdm());

        var shapes = model.state_dict().ToDictionary(s => s.Key, s => s.Value.shape);

        Assert.Equal(new long[] { 128, 32 }, shapes["time_embed.0.weight"]);
        Assert.Equal(new long[] { 32, 3, 3, 3 }, shapes["input_blocks.0.0.weight"]);
        Assert.Equal(new long[] { 64, 32, 3, 3 }, shapes["input_blocks.4.0.in_layers.2.weight"]);
        Assert.Equal(new long[] { 64, 32, 1, 1 }, shapes["input_blocks.4.0.skip_connection.weight"]);
        Assert.Equal(new long[] { 64, 128 }, shapes["input_blocks.4.0.emb_layers.1.weight"]);
        Assert.Equal(new long[] { 64, 64, 3, 3 }, shapes["input_blocks.4.0.out_layers.3.weight"]);
        Assert.Equal(new long[] { 64, 64, 3, 3 }, shapes["input_blocks.6.0.op.weight"]);
        Assert.Equal(new long[] { 192, 64, 1 }, shapes["middle_block.1.qkv.weight"]);
        Assert.Equal(new long[] { 64, 64, 1 }, shapes["middle_block.1.proj_out.weight"]);
        Assert.Equal(new long[] { 64, 64, 3, 3 }, shapes["output_blocks.2.2.conv.weight"]);
        Assert.Equal(new long[] { 3, 32, 3, 3 }, shapes["out.2.weight"]);
        Assert.DoesNotContain(shapes.Keys, k => k.StartsWith("label_emb"));
    }

    [Theory]
    [InlineData("tiny-ldm")]
    [InlineData("tiny-sd")]
    public void StateDict_TinyPreset_HoldsEachParameterOnceUnderItsCompVisName(string preset)
    {
        using var model = new UNetModel(UNetPresets.Get(preset));

        var keys = model.state_dict().Keys.Order().ToList();

        // A CompVis checkpoint holds exactly the named parameters: no alias such as ResBlock's embProjection.
        Assert.Equal(model.named_parameters().Select(p => p.name).Order().ToList(), keys);
    }

    [Fact]
    public void Forward_TinyClassConditional_ReturnsInputShapeAndUsesLabels()
    {
        manual_seed(7);
        using var model = new UNetModel(UNetPresets.TinyCinSd());
        using (no_grad()) foreach (var p in model.parameters()) if (p.abs().sum().item<float>() == 0) p.normal_(0, 0.05);
        var x = randn(2, 3, 32, 32);
        var t = tensor(new long[] { 5, 500 });

        var withClass = model.forward(x, t, Conditioning.Classes(tensor(new long[] { 3, 3 })));
        var withNull = model.forward(x, t, Conditioning.Classes(tensor(new long[] { 10, 10 }))); // label NumClasses = the null class

        Assert.Equal(x.shape, withClass.shape);
        Assert.Equal(11, model.state_dict()["label_emb.weight"].shape[0]);
        Assert.False(withClass.allclose(withNull), "the class label must change the output");
    }

    [Fact]
    public void Forward_WrongChannels_ThrowsNamingX()
    {
        using var model = new UNetModel(UNetPresets.TinyLiteLdm());

        var error = Assert.Throws<ArgumentException>(() => model.forward(zeros(1, 4, 32, 32), tensor(new long[] { 1 })));

        Assert.Equal("x", error.ParamName);
    }

    [Fact]
    public void Forward_ConditionalWithoutLabels_ThrowsNamingClassLabels()
    {
        using var model = new UNetModel(UNetPresets.TinyCinLiteLdm());

        var error = Assert.Throws<ArgumentException>(() => model.forward(zeros(1, 3, 32, 32), tensor(new long[] { 1 })));

        Assert.Equal("classLabels", error.ParamName);
    }

    [Fact]
    public void ForwardWithFeatures_DefaultTaps_HaveDeclaredChannelsAndScale()
    {
        using var model = new UNetModel(UNetPresets.TinySd());
        var x = randn(1, 3, 32, 32);

        var (output, features) = model.ForwardWithFeatures(x, tensor(new long[] { 3 }), Conditioning.None, model.DefaultFeatureTaps);

        Assert.Equal(new[] { "output_blocks.1", "output_blocks.4", "output_blocks.8" }, model.DefaultFeatureTaps);
        Assert.Equal(x.shape, output.shape);
        foreach (var tap in model.DefaultFeatureTaps)
        {
            var factor = model.FeatureDownsampleFactor(tap);
            Assert.Equal(new[] { 1, model.FeatureChannels(tap), 32 / factor, 32 / factor }, features[tap].shape);
        }
    }

    [Fact]
    public void TinyTeacherAndStudents_DefaultTaps_AlignByScale()
    {
        using var teacher = new UNetModel(UNetPresets.TinyLdm());
        using var student = new UNetModel(UNetPresets.TinySd());

        Assert.Equal(teacher.DefaultFeatureTaps, student.DefaultFeatureTaps);
        Assert.All(teacher.DefaultFeatureTaps, tap => Assert.Equal(teacher.FeatureDownsampleFactor(tap), student.FeatureDownsampleFactor(tap)));
    }

    [Fact]
    public void FeatureChannels_UnknownTap_ListsValidTaps()
    {
        using var model = new UNetModel(UNetPresets.TinyLiteLdm());

        var error = Assert.Throws<ArgumentException>(() => model.FeatureChannels("output_blocks.99"));

        Assert.Contains("output_blocks.8", error.Message);
    }

    [Fact]
    public void Get_Misspelt_SuggestsClosestAndListsAll()
    {
        var error = Assert.Throws<UnknownPresetException>(() => UNetPresets.Get("sd-ffhg"));

        Assert.Contains("did you mean 'sd-ffhq'", error.Message);
        Assert.Contains("tiny-cin-lite-ldm", error.Message);
    }

    [Fact]
    public void Names_EveryPreset_Validates()
    {
        Assert.Equal(31, UNetPresets.Names.Count);
        foreach (var name in UNetPresets.Names) UNetPresets.Get(name).Validate();
    }

    [Fact]
    public void Validate_IndivisibleGroups_ThrowsNamingNormGroups()
    {
        var config = UNetPresets.TinyLiteLdm() with { NormGroups = 32 };

        var error = Assert.Throws<ArgumentException>(config.Validate);

        Assert.Equal(nameof(UNetConfig.NormGroups), error.ParamName);
    }

    [Fact]
    public void CountMacs_TinyPreset_EqualsHandCountOfFirstConvPlusRest()
    {
        using var lite = new UNetModel(UNetPresets.TinyLiteLdm());
        using var sd = new UNetModel(UNetPresets.TinySd());

        var liteMacs = ModelStatistics.CountMacs(lite, 32, 32);
        var sdMacs = ModelStatistics.CountMacs(sd, 32, 32);

        // SD replaces 2 Downsample convs (16→16 @16², 32→32 @8²) and 2 Upsample convs (32→32 @16², 32→32 @32²) by gate FFNs.
        long Conv(long c, long positions) => positions * c * (c * 9 + 1);
        long Gate(long c) => c * (c / 4) + c / 4 + (c / 4) * 4 * c + 4 * c;
        var removed = Conv(16, 256) + Conv(32, 64) + Conv(32, 256) + Conv(32, 1024);
        var added = Gate(16) + Gate(32) + Gate(32) + Gate(32);
        Assert.Equal(liteMacs - removed + added, sdMacs);
    }
}
