using Microsoft.AspNetCore.Mvc.RazorPages;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Dashboard.Pages;

/// <summary>One job: its spec as YAML, attempts with the worker of each rank, checkpoints, every metric's curve, and an evaluation's numbers and pictures.</summary>
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

    public JobFileRow? File(string name) => Files.FirstOrDefault(f => f.Name == name);

    public static string FileUrl(Guid job, string name) => $"{DashboardSetup.PathBase}/files/{job}/{Uri.EscapeDataString(name)}";

    /// <summary>Loss terms first, then lr and it/s, then anything else the run logged; one chart each, log scale for losses.</summary>
    public IEnumerable<(MetricCurve Curve, bool LogScale)> OrderedCurves() =>
        Curves.OrderBy(c => c.Name.StartsWith("loss", StringComparison.Ordinal) ? 0 : c.Name is "lr" ? 1 : c.Name is "it_per_s" ? 2 : 3)
            .ThenBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => (c, c.Name.StartsWith("loss", StringComparison.Ordinal)));

    public static string Chart(MetricCurve curve, bool logScale) =>
        SvgChart.Lines(curve.Name is "it_per_s" ? "it/s" : curve.Name, "step",
            [new ChartSeries(curve.Name, curve.Points.Select(p => ((double)p.Step, p.Value)).ToList())], logScale);
}
