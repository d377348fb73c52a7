using Microsoft.AspNetCore.Mvc.RazorPages;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Sweeps;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Dashboard.Pages;

/// <summary>Every sweep, newest first: its state, arms and seeds, and how many of its jobs succeeded.</summary>
public sealed class SweepsModel(Database database) : PageModel
{
    public const int Limit = 200;

    public IReadOnlyList<SweepRecord> Sweeps { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellation) =>
        Sweeps = await database.ReadAsync((connection, token) => SweepRepository.ListAsync(connection, Limit, token), cancellation);

    /// <summary>The state as the pages' CSS classes name it (<c>ACTIVE</c>, <c>SUCCEEDED</c>, …), like a job's.</summary>
    public static string StateName(SweepState state) => state.ToString().ToUpperInvariant();

    public static int Succeeded(SweepRecord sweep) => sweep.Jobs.Count(j => j.State == JobState.Succeeded);
}
