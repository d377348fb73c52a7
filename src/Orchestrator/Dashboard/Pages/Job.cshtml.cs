using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Dashboard.Pages;

/// <summary>
/// One job: its spec as YAML, attempts with the worker of each rank, checkpoints, every metric's curve, and an evaluation's
/// numbers and pictures. While the job is queued or running the page re-reads <c>?handler=live</c> (JSON) every two seconds
/// (Assets/job-live.js): state, progress, rate, ETA and the charts follow the job, and the page reloads once when it ends.
/// </summary>
public sealed class JobModel(DashboardReader reader) : PageModel
{
    /// <summary>The files an evaluation publishes, in the order the page shows them.</summary>
    public const string SampleGrid = EvaluationArtifacts.SampleGrid, GatePlot = EvaluationArtifacts.GatePlot, SpectrumPlot = EvaluationArtifacts.SpectrumPlot;

    public JobRow? Job { get; private set; }
    public string SpecYaml { get; private set; } = "";
    public IReadOnlyList<AttemptRow> Attempts { get; private set; } = [];
    public IReadOnlyList<CheckpointRow> Checkpoints { get; private set; } = [];
    public IReadOnlyList<MetricCurve> Curves { get; private set; } = [];
    public EvaluationRow? Evaluation { get; private set; }
    public IReadOnlyList<JobFileRow> Files { get; private set; } = [];
    /// <summary>The jobs whose final models this one starts from (model and teacher given as <c>job:&lt;id&gt;</c>).</summary>
    public IReadOnlyList<(string Role, Guid Job)> ModelJobs { get; private set; } = [];
    public JobSweepRow? Sweep { get; private set; }
    /// <summary>What the latest attempt that reported resolved: schedule, scale factor, configs, gate initialisation.</summary>
    public Domain.RunSettings? Settings { get; private set; }

    public async Task OnGetAsync(Guid id, CancellationToken cancellation)
    {
        if (await reader.JobAsync(id, cancellation) is not { } page)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        (Job, SpecYaml, ModelJobs, Attempts, Checkpoints, Curves, Evaluation, Files, Sweep) =
            (page.Job, page.SpecYaml, page.ModelJobs, page.Attempts, page.Checkpoints, page.Curves, page.Evaluation, page.Files, page.Sweep);
        Settings = (await reader.RunSettingsAsync(id, cancellation)).LastOrDefault();
    }

    /// <summary>The job's state, progress and charts as JSON, for the page's own script; 404 for an unknown job.</summary>
    public async Task<IActionResult> OnGetLiveAsync(Guid id, CancellationToken cancellation)
    {
        if (await reader.LiveJobAsync(id, cancellation) is not { } live) return NotFound();
        var job = live.Job;
        Curves = live.Curves;
        return new JsonResult(new
        {
            job.State, job.Step, job.TotalSteps, job.Phase, job.StepsPerSecond,
            Progress = Format.Percent(job.Fraction ?? 0),
            Rate = Format.Number(job.StepsPerSecond > 0 ? job.StepsPerSecond : null, "0.##"),
            Eta = Format.Duration(job.Eta),
            Charts = ChartsHtml(),
        });
    }

    public JobFileRow? File(string name) => Files.FirstOrDefault(f => f.Name == name);

    public static string FileUrl(Guid job, string name) => $"{DashboardSetup.PathBase}/files/{job}/{Uri.EscapeDataString(name)}";

    /// <summary>Loss terms first, then lr and it/s, then anything else the run logged; one chart each, log scale for losses.</summary>
    public IEnumerable<(MetricCurve Curve, bool LogScale)> OrderedCurves() =>
        Curves.OrderBy(c => c.Name.StartsWith("loss", StringComparison.Ordinal) ? 0 : c.Name is "lr" ? 1 : c.Name is "it_per_s" ? 2 : 3)
            .ThenBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => (c, c.Name.StartsWith("loss", StringComparison.Ordinal)));

    /// <summary>Every curve's chart, in <see cref="OrderedCurves"/> order: what the page shows and what the live read sends.</summary>
    public string ChartsHtml() => string.Concat(OrderedCurves().Select(c => Chart(c.Curve, c.LogScale)));

    public static string Chart(MetricCurve curve, bool logScale) =>
        SvgChart.Lines(curve.Name is "it_per_s" ? "it/s" : curve.Name, "step",
            [new ChartSeries(curve.Name, curve.Points.Select(p => ((double)p.Step, p.Value)).ToList())], logScale);
}
