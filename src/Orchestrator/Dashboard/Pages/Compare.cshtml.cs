using Microsoft.AspNetCore.Mvc.RazorPages;

namespace SpectralDiffusion.Orchestrator.Dashboard.Pages;

/// <summary>
/// Runs side by side (the paper's Tables 2 and 5, live): each picked job with the model it trained or evaluated, the
/// newest evaluation of that model (<see cref="DashboardReader.CompareAsync"/>), and its training curves overlaid.
/// </summary>
public sealed class CompareModel(DashboardReader reader) : PageModel
{
    public const int MaxRuns = 8, Candidates = 100;

    public IReadOnlyList<JobRow> Choices { get; private set; } = [];
    public IReadOnlyList<CompareRun> Runs { get; private set; } = [];
    public List<string> Problems { get; } = [];

    public async Task OnGetAsync(string[] ids, CancellationToken cancellation)
    {
        var picked = new List<Guid>();
        foreach (var text in ids.Where(i => i.Length > 0).Distinct())
            if (Guid.TryParse(text, out var id)) picked.Add(id);
            else Problems.Add($"'{Shared.Jobs.Echo.Short(text)}' is not a job id");
        if (picked.Count > MaxRuns)
        {
            Problems.Add($"{picked.Count} runs picked; comparing the first {MaxRuns}");
            picked = picked.Take(MaxRuns).ToList();
        }
        (Choices, Runs) = await reader.CompareAsync(picked, Candidates, cancellation);
        foreach (var missing in picked.Where(id => Runs.All(r => r.Job.Id != id))) Problems.Add($"no job has the id {missing}");
    }

    /// <summary>One chart per metric any run logged (losses first), each run a line.</summary>
    public IEnumerable<string> OverlaidCharts() =>
        Runs.SelectMany(r => r.Curves.Select(c => c.Name)).Distinct()
            .OrderBy(name => name.StartsWith("loss", StringComparison.Ordinal) ? 0 : name is "lr" ? 1 : name is "it_per_s" ? 2 : 3).ThenBy(name => name, StringComparer.Ordinal)
            .Select(name => SvgChart.Lines(name is "it_per_s" ? "it/s" : name, "step",
                Runs.Select(r => new ChartSeries(r.Job.Name, r.Curves.FirstOrDefault(c => c.Name == name)?.Points.Select(p => ((double)p.Step, p.Value)).ToList() ?? []))
                    .ToList(),
                logY: name.StartsWith("loss", StringComparison.Ordinal)));

    public static double? Extra(EvaluationRow? evaluation, string name) =>
        evaluation is not null && evaluation.Extra.TryGetValue(name, out var value) ? value : null;
}
