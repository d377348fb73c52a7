using Microsoft.AspNetCore.Mvc.RazorPages;
using SpectralDiffusion.Orchestrator.Persistence;

namespace SpectralDiffusion.Orchestrator.Dashboard.Pages;

/// <summary>Every worker that registered: device, state, last heartbeat and the job it runs.</summary>
public sealed class WorkersModel(Database database) : PageModel
{
    public IReadOnlyList<WorkerRow> Workers { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellation) =>
        Workers = await database.ReadAsync(DashboardQueries.WorkersAsync, cancellation);
}
