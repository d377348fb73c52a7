using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Shared.Tests.Jobs;

public class KnownPresetsTests
{
    [Fact]
    public void All_EveryFamily_HasTeacherLiteAndStudent()
    {
        var families = new[] { "ffhq", "celebahq", "churches" };

        foreach (var family in families)
            Assert.All(new[] { "ldm-", "lite-ldm-", "sd-" }, prefix => Assert.True(KnownPresets.Contains(prefix + family)));
        foreach (var family in new[] { "cin-", "txt2img-", "tiny-", "tiny-cin-", "tiny-txt-" })
            Assert.All(new[] { "ldm", "lite-ldm", "sd" }, suffix => Assert.True(KnownPresets.Contains(family + suffix)));
        Assert.All(new[] { "sd-v1", "sd-v1-lite", "sd-v1-sd" }, name => Assert.True(KnownPresets.Contains(name)));
        Assert.Equal(31, KnownPresets.All.Count);
        Assert.Equal(KnownPresets.All.Count, KnownPresets.All.Distinct().Count());
    }

    [Fact]
    public void Closest_OneLetterOff_SuggestsThePreset()
    {
        Assert.Equal("tiny-lite-ldm", KnownPresets.Closest("tiny-lite-lm"));
        Assert.Null(KnownPresets.Closest("resnet50"));
    }
}
