using Microsoft.Extensions.Options;
using SpectralDiffusion.Orchestrator.Hosting;
using SpectralDiffusion.Orchestrator.Persistence;

namespace SpectralDiffusion.Orchestrator.Scheduling;

/// <summary>
/// Each iteration ticks the lease clock, and when the previous tick is long past (the orchestrator or its database was
/// down, so nobody could renew a lease) adds that time to every live lease; then it loses the live workers whose lease
/// passed, by the database clock: their attempts abort on every rank.
/// </summary>
public sealed class LeaseWatchdog(Database database, WorkerRegistry registry, IOptions<OrchestratorOptions> options, ILogger<LeaseWatchdog> logger)
    : IPeriodicWork
{
    /// <summary>A gap between iterations longer than the interval by more than this is an outage, not scheduling jitter.</summary>
    public static readonly TimeSpan StallTolerance = TimeSpan.FromSeconds(1);

    public string Name => "lease watchdog";
    public Task WaitAsync(CancellationToken cancellation) => Task.Delay(options.Value.WatchdogInterval, cancellation);

    public async Task<int> ExecuteAsync(CancellationToken cancellation)
    {
        var (forgiven, expired) = await database.TransactAsync(async (connection, token) =>
        {
            var forgiven = await WorkerRepository.ForgiveUnwatchedTimeAsync(connection, options.Value.WatchdogInterval, StallTolerance, options.Value.Lease, token);
            return (forgiven, await WorkerRepository.ExpiredAsync(connection, token));
        }, cancellation);
        if (forgiven is { } unwatched)
            logger.LogWarning("Leases were not watched for {Unwatched} (the orchestrator or its database was down); every live lease is extended by that time, to at least one whole lease from now",
                unwatched);
        foreach (var workerId in expired)
            await registry.EndAsync(workerId, WorkerRepository.Lost, $"lease of {options.Value.Lease.TotalSeconds:0.#} s expired", cancellation);
        return expired.Count;
    }
}
