using Microsoft.AspNetCore.Mvc.RazorPages;
using SpectralDiffusion.Orchestrator.Persistence;

namespace SpectralDiffusion.Orchestrator.Dashboard.Pages;

/// <summary>
/// Runs side by side (the paper's Tables 2 and 5, live): each picked job with the model it trained or evaluated, the
/// newest evaluation of that model, and its training curves overlaid. An evaluate job is joined to the job whose model it
/// evaluated (its dependency); a train or distill job to the newest evaluate job that depends on it.
/// </summary>
public sealed class CompareModel(Database database) : PageModel
{
    public const int MaxRuns = 8, Candidates = 100;

    public sealed record Run(JobRow Job, JobRow Model, EvaluationRow? Evaluation, IReadOnlyList<MetricCurve> Curves);

    public IReadOnlyList<JobRow> Choices { get; private set; } = [];
    public IReadOnlyList<Run> Runs { get; private set; } = [];
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
        await database.ReadAsync(async (connection, token) =>
        {
            Choices = await DashboardQueries.JobsAsync(connection, new JobFilter(), Candidates, token);
            if (picked.Count > 0) Runs = await LoadRunsAsync(connection, picked, token);
            return 0;
        }, cancellation);
        foreach (var missing in picked.Where(id => Runs.All(r => r.Job.Id != id))) Problems.Add($"no job has the id {missing}");
    }

    async Task<List<Run>> LoadRunsAsync(Npgsql.NpgsqlConnection connection, List<Guid> picked, CancellationToken token)
    {
        var relations = (await DashboardQueries.RelationsAsync(connection, picked, token)).ToDictionary(r => r.Id);
        var modelOf = relations.Values.ToDictionary(r => r.Id, r => r.DependsOn.Count > 0 ? r.DependsOn[0] : r.Id);
        var jobs = (await DashboardQueries.JobsByIdAsync(connection, [.. picked, .. modelOf.Values], token)).DistinctBy(j => j.Id).ToDictionary(j => j.Id);
        var evaluatorOf = picked.Where(jobs.ContainsKey).ToDictionary(id => id, id => jobs[id].Type is "EVALUATE" ? id : relations[id].Evaluator);
        var evaluations = await DashboardQueries.EvaluationsByJobAsync(connection, evaluatorOf.Values.OfType<Guid>().ToList(), token);
        var runs = new List<Run>();
        foreach (var id in picked.Where(jobs.ContainsKey))
        {
            var job = jobs[id];
            var model = job.Type is "EVALUATE" && jobs.TryGetValue(modelOf[id], out var trained) ? trained : job;
            var curves = await DashboardQueries.CurvesAsync(connection, model.Id, token);
            runs.Add(new Run(job, model, evaluatorOf[id] is { } evaluator ? evaluations.GetValueOrDefault(evaluator) : null, curves));
        }
        return runs;
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
