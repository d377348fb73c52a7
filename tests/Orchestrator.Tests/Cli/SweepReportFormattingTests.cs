using Spectre.Console;
using SpectralDiffusion.Orchestrator.Cli;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Cli;

/// <summary>How <c>orchestrator sweep report</c> prints a report in the terminal.</summary>
public class SweepReportFormattingTests
{
    [Fact]
    public void Write_ArmsAndComparison_MeanStdAndIntervalAsText()
    {
        var report = new SweepReport { SweepId = "s", Name = "printed", State = SweepState.Succeeded };
        report.Arms.Add(new ArmReport
        {
            Arm = "lite", Jobs = 2, Succeeded = 2, Params = 410_000, Macs = 2e7,
            TrainingSeconds = new MetricSummary { Metric = "training_seconds", Mean = 12, Std = double.NaN, N = 1 },
            Metrics = { new MetricSummary { Metric = "high_frequency_error", Mean = 0.35, Std = 0.0707106781, N = 2 } },
        });
        report.Comparisons.Add(new PairedComparison
        {
            ArmA = "lite", ArmB = "sd", Metric = "high_frequency_error", MeanDifference = -0.065, StandardError = 0.015, Pairs = 2, Agreeing = 2,
            Ci95Low = -0.255593, Ci95High = 0.125593,
        });
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 400;

        SweepReportFormatting.Write(report, console);

        var text = output.ToString();
        Assert.Contains("0.35 ± 0.0707 (n=2)", text);
        Assert.Contains("12 ± n/a (n=1)", text);
        Assert.Contains("[-0.2556, 0.1256]", text);   // brackets printed, not read as markup
        Assert.Contains("95% interval", text);
        Assert.Contains("2/2", text);
    }
}
