using SpectralDiffusion.Worker.Training;

namespace SpectralDiffusion.Worker.Tests.Training;

public class LearningRateScheduleTests
{
    [Fact]
    public void RateAt_WarmupThenLinearDecay_HitsEndpoints()
    {
        var schedule = new LearningRateSchedule(1e-3, TotalSteps: 110, WarmupSteps: 10, MinRatio: 0.1);

        Assert.Equal(1e-4, schedule.RateAt(0), 12);
        Assert.Equal(1e-3, schedule.RateAt(9), 12);
        Assert.Equal(1e-3, schedule.RateAt(10), 12);
        Assert.Equal(1e-4, schedule.RateAt(109), 12);
        Assert.True(schedule.RateAt(60) < schedule.RateAt(30));
    }

    [Fact]
    public void Validate_WarmupLongerThanRun_ThrowsNamingField()
    {
        var error = Assert.Throws<ArgumentException>(() => new LearningRateSchedule(1e-3, 10, 20).Validate());
        Assert.Contains("warmup_steps", error.Message);
    }
}
