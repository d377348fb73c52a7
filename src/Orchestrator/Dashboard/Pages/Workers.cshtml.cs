using Microsoft.AspNetCore.Mvc.RazorPages;

namespace SpectralDiffusion.Orchestrator.Dashboard.Pages;

/// <summary>Every worker that registered: device, state, last heartbeat and the job it runs.</summary>
public sealed class WorkersModel(DashboardReader reader) : PageModel
{
    public IReadOnlyList<WorkerRow> Workers { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellation) =>
        Workers = await reader.WorkersAsync(cancellation);
}
