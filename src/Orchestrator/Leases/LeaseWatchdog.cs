using Microsoft.Extensions.Options;
using SpectralDiffusion.Orchestrator.Monitoring;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Scheduling;
using SpectralDiffusion.Orchestrator.Standby;

namespace SpectralDiffusion.Orchestrator.Leases;

/// <summary>
/// Each iteration, in one transaction, writes the heartbeats answered from memory since the last one
/// (<see cref="LeaseRenewals"/>), ticks the lease clock, and when the previous tick is long past (the orchestrator or its
/// database was down, so nobody could renew a lease) adds that time to every live lease; the first iteration of each term
/// as the active orchestrator (a start, or a standby's takeover) grants every live lease one whole lease. Then it loses the live workers whose lease passed, by the database clock:
/// their attempts abort on every rank.
/// </summary>
public sealed class LeaseWatchdog(Database database, WorkerRegistry registry, LeaseRenewals leases, Leadership leadership,
    IOptions<LeaseOptions> options, OrchestratorMetrics metrics, ILogger<LeaseWatchdog> logger) : IPeriodicWork
{
    /// <summary>A gap between iterations longer than the interval by more than this is an outage, not scheduling jitter.</summary>
    public static readonly TimeSpan StallTolerance = TimeSpan.FromSeconds(1);

    /// <summary>The term whose leases this watchdog has judged; another term must first grant every live lease.</summary>
    int watchedTerm;

    public string Name => "lease watchdog";
    public Task WaitAsync(CancellationToken cancellation) => Task.Delay(options.Value.WatchdogInterval, cancellation);

    public async Task<int> ExecuteAsync(CancellationToken cancellation)
    {
        var term = leadership.Term;
        var firstSinceStart = watchedTerm != term;
        var renewals = leases.Take();
        TimeSpan? forgiven;
        List<Guid> expired;
        try
        {
            (forgiven, expired) = await database.TransactAsync(async (connection, token) =>
            {
                await WorkerRepository.RenewLeasesAsync(connection, renewals.Select(r => (r.WorkerId, r.Age)).ToList(), options.Value.Lease, token);
                var forgiven = await WorkerRepository.ForgiveUnwatchedTimeAsync(connection, options.Value.WatchdogInterval, StallTolerance,
                    options.Value.Lease, firstSinceStart, token);
                return (forgiven, await WorkerRepository.ExpiredAsync(connection, token));
            }, cancellation);
        }
        catch
        {
            leases.Restore(renewals);
            throw;
        }
        watchedTerm = term;
        if (forgiven is { } unwatched)
            logger.LogWarning(firstSinceStart
                    ? "Orchestrator active: every live lease runs at least one whole lease from now (unwatched before: {Unwatched})"
                    : "Leases were not watched for {Unwatched} (the orchestrator or its database was down); every live lease is extended by that time, to at least one whole lease from now",
                unwatched);
        var lost = 0;
        // A heartbeat that arrived after this iteration took the batch is written next time; its worker is not judged now.
        foreach (var workerId in expired.Where(id => !leases.HasUnwritten(id)))
            if (await registry.EndAsync(workerId, WorkerRepository.Lost, $"lease of {options.Value.Lease.TotalSeconds:0.#} s expired", cancellation))
            {
                metrics.LeaseExpired();
                lost++;
            }
        return lost;
    }
}
