using SpectralDiffusion.Worker.Cli;

namespace SpectralDiffusion.Worker.Tests.Cli;

public class ConsoleProgressTests
{
    [Fact]
    public void Report_RedirectedOutput_WritesWholeLinesWithoutCarriageReturns()
    {
        var output = new StringWriter();
        var progress = new ConsoleProgress("sample", "images", output, terminal: false);

        for (var done = 0; done <= 100; done++) progress.Report(done, 100);

        var text = output.ToString();
        Assert.DoesNotContain('\r', text);
        var lines = text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("sample: 0/100 images", lines[0]);
        Assert.StartsWith("sample: 100/100 images", lines[^1]);
        Assert.True(lines.Length <= 3, $"a redirected display writes at most one line per interval and the last: {lines.Length} lines");
    }

    [Fact]
    public void Report_Terminal_RedrawsOneLine()
    {
        var output = new StringWriter();
        var progress = new ConsoleProgress("fid", "images", output, terminal: true);

        progress.Report(0, 10);
        progress.Report(10, 10);

        var text = output.ToString();
        Assert.StartsWith("\rfid: 0/10 images", text);
        Assert.Contains("\rfid: 10/10 images", text);
        Assert.EndsWith(Environment.NewLine, text);
    }
}
