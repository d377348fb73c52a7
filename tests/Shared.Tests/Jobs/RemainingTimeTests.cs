using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Shared.Tests.Jobs;

public class RemainingTimeTests
{
    [Theory]
    [InlineData(30 * 3600.0, 1.0, "1d 06:00:00")]
    [InlineData(22.0, 1.0, "00:00:22")]
    [InlineData(3 * 86400.0 + 61, 1.0, "3d 00:01:01")]
    [InlineData(100.0, 0.0, "--:--:--")]
    [InlineData(0.0, 5.0, "00:00:00")]
    [InlineData(4.6e18, 1e-9, ">9999d")]
    public void Format_Estimate_KeepsDaysAndNeverOverflows(double remainingSteps, double stepsPerSecond, string expected)
    {
        var text = RemainingTime.Format(RemainingTime.Estimate(remainingSteps, stepsPerSecond));

        Assert.Equal(expected, text);
    }
}
