using System.Globalization;
using System.Net;
using System.Text;

namespace SpectralDiffusion.Orchestrator.Dashboard;

/// <summary>One named line of a chart.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <summary>
/// Line charts as inline SVG markup, drawn here so that the pages need no script library and work offline: axes with
/// round ticks, one coloured polyline per series and a legend. A log y axis is used when asked for and every value is
/// positive. Non-finite values are skipped; long series are thinned to at most <see cref="MaxPointsPerSeries"/> points.
/// </summary>
public static class SvgChart
{
    public const int MaxPointsPerSeries = 800;
    const int Width = 640, Height = 300, Left = 64, Right = 16, Top = 28, Bottom = 40;
    static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];

    public static string Lines(string title, string xLabel, IReadOnlyList<ChartSeries> series, bool logY = false)
    {
        var clean = series.Select(s => s with { Points = Thin(s.Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList()) })
            .Where(s => s.Points.Count > 0).ToList();
        logY = logY && clean.Count > 0 && clean.All(s => s.Points.All(p => p.Y > 0));
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" role=\"img\" aria-label=\"{Escape(title)}\">"));
        svg.Append(Invariant($"<text x=\"{Width / 2}\" y=\"18\" text-anchor=\"middle\" class=\"chart-title\">{Escape(title)}{(logY ? " (log scale)" : "")}</text>"));
        if (clean.Count == 0)
        {
            svg.Append(Invariant($"<text x=\"{Width / 2}\" y=\"{Height / 2}\" text-anchor=\"middle\">no data</text></svg>"));
            return svg.ToString();
        }

        Func<double, double> yOf = logY ? Math.Log10 : y => y;
        var xs = clean.SelectMany(s => s.Points.Select(p => p.X)).ToList();
        var ys = clean.SelectMany(s => s.Points.Select(p => yOf(p.Y))).ToList();
        var (xMin, xMax) = Range(xs.Min(), xs.Max());
        var (yMin, yMax) = Range(ys.Min(), ys.Max());
        double Px(double x) => Left + (x - xMin) / (xMax - xMin) * (Width - Left - Right);
        double Py(double y) => Height - Bottom - (y - yMin) / (yMax - yMin) * (Height - Top - Bottom);

        svg.Append(Invariant($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{Width - Left - Right}\" height=\"{Height - Top - Bottom}\" fill=\"none\" stroke=\"#999\"/>"));
        foreach (var tick in Ticks(xMin, xMax))
            svg.Append(Invariant($"<line x1=\"{Px(tick):F1}\" x2=\"{Px(tick):F1}\" y1=\"{Height - Bottom}\" y2=\"{Height - Bottom + 4}\" stroke=\"#999\"/>"))
               .Append(Invariant($"<text x=\"{Px(tick):F1}\" y=\"{Height - Bottom + 16}\" text-anchor=\"middle\" class=\"tick\">{Label(tick)}</text>"));
        foreach (var tick in Ticks(yMin, yMax))
            svg.Append(Invariant($"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{Py(tick):F1}\" y2=\"{Py(tick):F1}\" stroke=\"#eee\"/>"))
               .Append(Invariant($"<text x=\"{Left - 6}\" y=\"{Py(tick) + 4:F1}\" text-anchor=\"end\" class=\"tick\">{Label(logY ? Math.Pow(10, tick) : tick)}</text>"));
        svg.Append(Invariant($"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 6}\" text-anchor=\"middle\" class=\"axis\">{Escape(xLabel)}</text>"));

        for (var i = 0; i < clean.Count; i++)
        {
            var colour = Palette[i % Palette.Length];
            var points = string.Join(' ', clean[i].Points.Select(p => Invariant($"{Px(p.X):F1},{Py(yOf(p.Y)):F1}")));
            svg.Append(Invariant($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{points}\"><title>{Escape(clean[i].Name)}</title></polyline>"));
            if (clean[i].Points.Count == 1)
                svg.Append(Invariant($"<circle cx=\"{Px(clean[i].Points[0].X):F1}\" cy=\"{Py(yOf(clean[i].Points[0].Y)):F1}\" r=\"3\" fill=\"{colour}\"/>"));
            svg.Append(Invariant($"<rect x=\"{Left + 8}\" y=\"{Top + 6 + i * 14}\" width=\"10\" height=\"3\" fill=\"{colour}\"/>"))
               .Append(Invariant($"<text x=\"{Left + 22}\" y=\"{Top + 11 + i * 14}\" class=\"legend\">{Escape(clean[i].Name)}</text>"));
        }
        return svg.Append("</svg>").ToString();
    }

    /// <summary>A non-empty range: a single value is widened by 1 (or 10% of it).</summary>
    static (double Min, double Max) Range(double min, double max)
    {
        if (max > min) return (min, max);
        var pad = Math.Abs(min) > 0 ? Math.Abs(min) * 0.1 : 1;
        return (min - pad, max + pad);
    }

    /// <summary>About five round ticks (1, 2 or 5 × 10^k apart) inside [min, max].</summary>
    static IEnumerable<double> Ticks(double min, double max)
    {
        var raw = (max - min) / 5;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = new[] { 1, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
        for (var tick = Math.Ceiling(min / step) * step; tick <= max + step * 1e-9; tick += step) yield return Math.Abs(tick) < step * 1e-9 ? 0 : tick;
    }

    static List<(double X, double Y)> Thin(List<(double X, double Y)> points)
    {
        if (points.Count <= MaxPointsPerSeries) return points;
        var stride = (double)(points.Count - 1) / (MaxPointsPerSeries - 1);
        return Enumerable.Range(0, MaxPointsPerSeries).Select(i => points[(int)Math.Round(i * stride)]).ToList();
    }

    static string Label(double value) => value.ToString(Math.Abs(value) is >= 1e5 or (< 1e-3 and > 0) ? "0.##e0" : "0.####", CultureInfo.InvariantCulture);

    static string Escape(string text) => WebUtility.HtmlEncode(text);

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
