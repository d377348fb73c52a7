using SpectralDiffusion.Orchestrator.Sweeps;
using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Tests.Sweeps;

/// <summary>The report's statistics against values computed by hand.</summary>
public class SweepStatisticsTests
{
    [Fact]
    public void Summarize_FourValues_MeanAndSampleStandardDeviation()
    {
        var summary = SweepStatistics.Summarize("fid", [1.0, 2.0, 3.0, 4.0]);

        // mean 10/4; variance (2.25 + 0.25 + 0.25 + 2.25) / (4 − 1) = 5/3
        Assert.Equal(2.5, summary.Mean, 12);
        Assert.Equal(Math.Sqrt(5.0 / 3.0), summary.Std, 12);
        Assert.Equal(4, summary.N);
    }

    [Fact]
    public void Summarize_OneValue_SpreadIsUndefined()
    {
        var summary = SweepStatistics.Summarize("fid", [7.0]);

        Assert.Equal(7.0, summary.Mean);
        Assert.True(double.IsNaN(summary.Std));
    }

    [Fact]
    public void Paired_ThreeCommonSeeds_DifferenceStandardErrorAndAgreement()
    {
        var lite = new Dictionary<long, double> { [1] = 1.0, [2] = 2.0, [3] = 4.0 };
        var sd = new Dictionary<long, double> { [1] = 1.5, [2] = 1.9, [3] = 5.0, [4] = 9.0 };   // seed 4 has no pair

        var paired = SweepStatistics.Paired("lite", "sd", "high_frequency_error", lite, sd);

        // differences sd − lite: 0.5, −0.1, 1.0; mean 1.4/3; squared deviations 1/900, 289/900, 256/900 → variance 546/1800
        Assert.Equal(3, paired.Pairs);
        Assert.Equal(1.4 / 3, paired.MeanDifference, 12);
        Assert.Equal(Math.Sqrt(546.0 / 1800.0) / Math.Sqrt(3), paired.StandardError, 12);
        Assert.Equal(2, paired.Agreeing);
        // 95% interval with 2 degrees of freedom: t = 4.3027
        Assert.Equal(1.4 / 3 - 4.3027 * paired.StandardError, paired.Interval95Low, 12);
        Assert.Equal(1.4 / 3 + 4.3027 * paired.StandardError, paired.Interval95High, 12);
    }

    [Fact]
    public void Paired_OnePair_NoInterval()
    {
        var paired = SweepStatistics.Paired("a", "b", "fid", new Dictionary<long, double> { [1] = 1.0 }, new Dictionary<long, double> { [1] = 3.0 });

        Assert.Equal(2.0, paired.MeanDifference);
        Assert.True(double.IsNaN(paired.Interval95Low) && double.IsNaN(paired.Interval95High));
    }

    [Theory]
    [InlineData(1, 12.7062)]
    [InlineData(4, 2.7764)]
    [InlineData(30, 2.0423)]
    [InlineData(31, 2.0395)]   // from here on the Cornish–Fisher expansion
    [InlineData(40, 2.0211)]
    [InlineData(120, 1.9799)]
    [InlineData(100000, 1.9600)]
    public void StudentT_Quantile975_PublishedTableValues(int degreesOfFreedom, double expected)
    {
        Assert.Equal(expected, StudentT.Quantile975(degreesOfFreedom), 4);
    }

    [Fact]
    public void StudentT_ZeroDegreesOfFreedom_Refused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => StudentT.Quantile975(0));

        Assert.Equal("degreesOfFreedom", error.ParamName);
    }

    [Fact]
    public void Build_TwoArmsTwoSeeds_MeansCurvesAndGateEvidence()
    {
        var noGates = new Dictionary<string, GateCurve>();
        SweepRun Run(string arm, long seed, JobState state, double hf, (double, double)[] loss, Dictionary<string, GateCurve> gates) =>
            new(arm, seed, state, new Dictionary<string, double> { ["high_frequency_error"] = hf, ["params"] = 1000, ["final_loss"] = hf / 10 },
                100 * seed, loss, gates);
        var runs = new[]
        {
            Run("lite", 1, JobState.Succeeded, 0.30, [(0, 1.0), (10, 0.5)], noGates),
            Run("lite", 2, JobState.Succeeded, 0.50, [(0, 0.8), (10, 0.3), (20, 0.2)], noGates),
            Run("sd", 1, JobState.Succeeded, 0.20, [(0, 1.0)],
                new() { ["HH"] = new GateCurve([0.5, 0.6, 0.8], [0.5, 0.5, 0.5]) }),
            Run("sd", 2, JobState.Succeeded, 0.45, [(0, 1.0)],
                new() { ["HH"] = new GateCurve([0.4, 0.6, 0.7], [0.5, 0.5, 0.5]) }),
            Run("sd", 3, JobState.Failed, 99, [(0, 1.0)], noGates),   // not counted
        };

        var report = SweepReportBuilder.Build(Guid.NewGuid(), "s", SweepState.Failed, ["lite", "sd"], runs);

        var lite = report.Arms[0];
        Assert.Equal((2, 2), (lite.Jobs, lite.Succeeded));
        Assert.Equal(0.40, lite.Metrics.Single(m => m.Metric == "high_frequency_error").Mean, 12);
        Assert.Equal(Math.Sqrt(0.02), lite.Metrics.Single(m => m.Metric == "high_frequency_error").Std, 12);
        Assert.Equal(1000, lite.Params);
        Assert.Equal(150, lite.TrainingSeconds.Mean, 12);
        var sd = report.Arms[1];
        Assert.Equal((3, 2), (sd.Jobs, sd.Succeeded));
        var hh = Assert.Single(sd.Gates);
        Assert.Equal(0.45, hh.FirstStep.Mean, 12);
        Assert.Equal(0.75, hh.LastStep.Mean, 12);
        Assert.Equal(0.3, hh.RangeAcrossSteps.Mean, 12);
        Assert.Equal(0.4 / 3, hh.ShiftFromInit.Mean, 12);   // seed 1: (0 + 0.1 + 0.3)/3, seed 2: (0.1 + 0.1 + 0.2)/3
        var hf = Assert.Single(report.Comparisons, c => c.Metric == "high_frequency_error");
        Assert.Equal(("lite", "sd", 2), (hf.ArmA, hf.ArmB, hf.Pairs));
        Assert.Equal(-0.075, hf.MeanDifference, 12);   // (−0.10 + −0.05) / 2
        Assert.Equal(2, hf.Agreeing);
        var liteLoss = Assert.Single(report.LossCurves, c => c.Arm == "lite");
        Assert.Equal([0.0, 10.0], liteLoss.X);
        Assert.Equal(0.9, liteLoss.Y[0], 12);
        Assert.Equal(0.4, liteLoss.Y[1], 12);
        Assert.Equal([0.45, 0.6, 0.75], Assert.Single(report.GateCurves).Y.Select(y => Math.Round(y, 12)));
    }

    [Fact]
    public void GateCurves_ExtraKeysOfAnEvaluation_ReadBackPerBand()
    {
        var extra = new Dictionary<string, double>
        {
            [Shared.Jobs.GateSeriesKeys.Trained("LL", 0)] = 0.9, [Shared.Jobs.GateSeriesKeys.Trained("LL", 1)] = 0.8,
            [Shared.Jobs.GateSeriesKeys.Initial("LL", 0)] = 0.5, [Shared.Jobs.GateSeriesKeys.Initial("LL", 1)] = 0.6,
            ["params"] = 5,
        };

        var curves = SweepReports.GateCurves(extra);

        var ll = Assert.Single(curves).Value;
        Assert.Equal([0.9, 0.8], ll.Trained);
        Assert.Equal([0.5, 0.6], ll.Initial);
    }
}
