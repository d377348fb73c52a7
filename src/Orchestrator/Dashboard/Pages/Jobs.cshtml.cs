using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace SpectralDiffusion.Orchestrator.Dashboard.Pages;

/// <summary>The job list, newest first, filtered by state, type and label; its rows refresh every two seconds (handler <c>rows</c>).</summary>
public sealed class JobsModel(DashboardReader reader) : PageModel
{
    public const int Limit = 200;
    public static IReadOnlyList<string> States => DashboardReader.JobStateNames;
    public static IReadOnlyList<string> Types => DashboardReader.JobTypeNames;

    [BindProperty(SupportsGet = true)] public string State { get; set; } = "";
    [BindProperty(SupportsGet = true)] public string Type { get; set; } = "";
    [BindProperty(SupportsGet = true)] public string Label { get; set; } = "";
    public IReadOnlyList<JobRow> Jobs { get; private set; } = [];
    public string? Problem { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellation) => await LoadAsync(cancellation);

    public async Task<IActionResult> OnGetRowsAsync(CancellationToken cancellation)
    {
        await LoadAsync(cancellation);
        return Partial("_JobRows", Jobs);
    }

    async Task LoadAsync(CancellationToken cancellation)
    {
        (State, Type, Label) = (State.Trim().ToUpperInvariant(), Type.Trim().ToUpperInvariant(), Label.Trim());
        Problem = State.Length > 0 && !States.Contains(State) ? $"state '{State}' is not one of {string.Join(", ", States)}"
            : Type.Length > 0 && !Types.Contains(Type) ? $"type '{Type}' is not one of {string.Join(", ", Types)}"
            : null;
        if (Problem is not null) return;
        var filter = new JobFilter(State, Type, Label);
        Jobs = await reader.JobsAsync(filter, Limit, cancellation);
    }
}
