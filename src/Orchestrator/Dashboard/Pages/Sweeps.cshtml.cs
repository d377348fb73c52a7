using Microsoft.AspNetCore.Mvc.RazorPages;

namespace SpectralDiffusion.Orchestrator.Dashboard.Pages;

/// <summary>Every sweep, newest first: its state, arms and seeds, and how many of its jobs succeeded.</summary>
public sealed class SweepsModel(DashboardReader reader) : PageModel
{
    public const int Limit = 200;

    public IReadOnlyList<SweepRow> Sweeps { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellation) => Sweeps = await reader.SweepsAsync(Limit, cancellation);
}
