using Microsoft.Extensions.Options;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Standby;

namespace SpectralDiffusion.Orchestrator.Leases;

/// <summary>
/// On a graceful stop, after the server has stopped answering, writes the heartbeats answered from memory that the lease
/// watchdog has not written yet. (After a crash they are lost, which the next process's first watchdog iteration makes
/// harmless: it grants every live lease one whole lease.)
/// </summary>
public sealed class LeaseRenewalsWriter(Database database, LeaseRenewals leases, Leadership leadership, IOptions<LeaseOptions> options,
    ILogger<LeaseRenewalsWriter> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var renewals = leases.Take();
        if (renewals.Length == 0 || !leadership.IsActive) return;
        try
        {
            await database.TransactAsync((connection, token) => WorkerRepository.RenewLeasesAsync(connection,
                renewals.Select(r => (r.WorkerId, r.Age)).ToList(), options.Value.Lease, token), cancellationToken);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning(e, "{Count} heartbeats answered before the stop were not written; the next start grants every live lease one whole lease",
                renewals.Length);
        }
    }
}
