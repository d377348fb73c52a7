using System.Xml.Linq;
using SpectralDiffusion.Orchestrator.Dashboard;

namespace SpectralDiffusion.Orchestrator.Tests.Dashboard;

public class SvgChartTests
{
    static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void Lines_TwoSeriesWithNaNAndLongSeries_OnePolylineEachThinnedAndWellFormed()
    {
        var longSeries = Enumerable.Range(0, 5000).Select(i => ((double)i, 1.0 / (i + 1))).ToList();
        var gappy = new List<(double, double)> { (0, 1), (1, double.NaN), (2, 0.5), (3, double.PositiveInfinity) };

        var chart = XElement.Parse(SvgChart.Lines("loss <&> terms", "step", [new ChartSeries("long", longSeries), new ChartSeries("gappy", gappy)], logY: true));

        var lines = chart.Descendants(Svg + "polyline").ToList();
        Assert.Equal(2, lines.Count);
        Assert.Equal(SvgChart.MaxPointsPerSeries, lines[0].Attribute("points")!.Value.Split(' ').Length);
        Assert.Equal(2, lines[1].Attribute("points")!.Value.Split(' ').Length);
        Assert.Contains("loss <&> terms (log scale)", chart.Descendants(Svg + "text").Select(t => t.Value));
    }

    [Fact]
    public void Lines_NonPositiveValueOnLogScale_DrawsLinear()
    {
        var chart = XElement.Parse(SvgChart.Lines("lr", "step", [new ChartSeries("lr", [(0, 0), (1, 1e-3)])], logY: true));

        Assert.DoesNotContain(chart.Descendants(Svg + "text"), t => t.Value.Contains("log scale"));
        Assert.Single(chart.Descendants(Svg + "polyline"));
    }

    [Fact]
    public void Lines_NoPoints_SaysNoData()
    {
        var chart = XElement.Parse(SvgChart.Lines("empty", "step", [new ChartSeries("x", [])]));

        Assert.Contains("no data", chart.Descendants(Svg + "text").Select(t => t.Value));
        Assert.Empty(chart.Descendants(Svg + "polyline"));
    }
}
