using SpectralDiffusion.Worker.Training;

namespace SpectralDiffusion.Worker.Tests.Training;

public class StepPhasesTests
{
    [Fact]
    public void FirstAndLastTenth_OneSlowStepAmongTheFirst_MedianIgnoresIt()
    {
        // 30 steps: tenths of 3. The first tenth holds one 500 ms step (a collection, say): its mean would be 174 ms.
        double[] steps = [10, 12, 500, .. Enumerable.Repeat(20.0, 24), 40, 41, 39];

        var (first, last) = StepPhases.FirstAndLastTenthMilliseconds(steps);

        Assert.Equal(12, first);
        Assert.Equal(40, last);
    }

    [Fact]
    public void FirstAndLastTenth_EvenTenth_AveragesTheTwoMiddleSteps()
    {
        // 40 steps: tenths of 4. First sorted 10, 20, 30, 1000 → (20 + 30) / 2; last sorted 5, 6, 7, 8 → (6 + 7) / 2.
        double[] steps = [10, 30, 20, 1000, .. Enumerable.Repeat(100.0, 32), 5, 7, 6, 8];

        var (first, last) = StepPhases.FirstAndLastTenthMilliseconds(steps);

        Assert.Equal(25, first);
        Assert.Equal(6.5, last);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(19)]
    public void FirstAndLastTenth_TenToNineteenSteps_TakesTheFirstAndTheLastStep(int count)
    {
        var steps = Enumerable.Range(1, count).Select(i => i * 10.0).ToArray();

        var (first, last) = StepPhases.FirstAndLastTenthMilliseconds(steps);

        Assert.Equal(10, first);
        Assert.Equal(count * 10, last);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(9)]
    public void FirstAndLastTenth_FewerThanTenSteps_IsNaN(int count)
    {
        var (first, last) = StepPhases.FirstAndLastTenthMilliseconds(Enumerable.Repeat(50.0, count).ToArray());

        Assert.True(double.IsNaN(first));
        Assert.True(double.IsNaN(last));
    }

    [Fact]
    public void Describe_TenCountedSteps_ReportsTheMedianStepTimes()
    {
        var phases = new StepPhases();
        for (var step = 0; step < 9; step++)
        {
            phases.Lap(StepPhases.Forward);
            phases.CountStep();
        }
        var beforeTen = phases.Describe();
        phases.Lap(StepPhases.Forward);
        phases.CountStep();

        var afterTen = phases.Describe();

        Assert.DoesNotContain("step time first 10%", beforeTen);
        Assert.Contains("over 10 steps", afterTen);
        Assert.Matches(@"; median step time first 10% [\d.]+ ms, last 10% [\d.]+ ms, last/first", afterTen);
    }
}
