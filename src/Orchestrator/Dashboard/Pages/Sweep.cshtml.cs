using Microsoft.AspNetCore.Mvc.RazorPages;
using SpectralDiffusion.Orchestrator.Sweeps;

namespace SpectralDiffusion.Orchestrator.Dashboard.Pages;

/// <summary>
/// One sweep: its report as <see cref="SweepReports"/> builds it for <c>orchestrator sweep report</c> (per-arm statistics
/// over seeds, paired comparisons, gate evidence, mean curves), shown as it is, and its jobs.
/// </summary>
public sealed class SweepModel(DashboardReader reader) : PageModel
{
    public SweepRow? Sweep { get; private set; }
    public SweepReport? Report { get; private set; }
    public IReadOnlyList<JobRow> Jobs { get; private set; } = [];

    public async Task OnGetAsync(Guid id, CancellationToken cancellation)
    {
        if (await reader.SweepAsync(id, cancellation) is { } page) (Sweep, Report, Jobs) = (page.Sweep, page.Report, page.Jobs);
        else Response.StatusCode = StatusCodes.Status404NotFound;
    }

    /// <summary>Every metric some arm has, in the report's order: the columns of the arms table.</summary>
    public IReadOnlyList<string> MetricNames() => Report!.Arms.SelectMany(a => a.Metrics.Select(m => m.Metric)).Distinct().ToList();

    /// <summary>Each arm's mean loss curve, overlaid on a log scale.</summary>
    public string LossChart() =>
        SvgChart.Lines("training loss, mean over seeds", "step",
            Report!.LossCurves.Select(c => new ChartSeries(c.Arm, c.X.Zip(c.Y).ToList())).ToList(), logY: true);

    /// <summary>One chart per gated arm: its mean gate per band against the denoising step.</summary>
    public IEnumerable<string> GateCharts() =>
        Report!.GateCurves.GroupBy(c => c.Arm).Select(arm => SvgChart.Lines($"{arm.Key}: mean gate per band, mean over seeds",
            "denoising step (0 = noisiest)", arm.Select(c => new ChartSeries(c.Series, c.X.Zip(c.Y).ToList())).ToList()));
}
