using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Models;

public class NormalizationTests
{
    [Fact]
    public void GroupNorm_New_HasUnitWeightAndZeroBias()
    {
        TorchRuntime.EnsureLoaded();
        // Allocate and free garbage first so uninitialised memory would be visible.
        for (int i = 0; i < 4; i++) using (var junk = full(new long[] { 4096 }, 1e22f)) { }

        var norm = Normalization.GroupNorm(64);

        Assert.True(norm.weight!.eq(1).all().item<bool>(), "weight must start at 1");
        Assert.True(norm.bias!.eq(0).all().item<bool>(), "bias must start at 0");
        var output = norm.forward(randn(2, 64, 4, 4));
        Assert.False(output.isnan().any().item<bool>());
    }

    [Fact]
    public void GroupNorm_ChannelsNotDivisible_ThrowsNamingBoth()
    {
        var error = Assert.Throws<ArgumentException>(() => Normalization.GroupNorm(40));
        Assert.Contains("40", error.Message);
        Assert.Contains("32", error.Message);
    }
}
