using Microsoft.Extensions.Options;
using SpectralDiffusion.Orchestrator.Hosting;
using SpectralDiffusion.Orchestrator.Persistence;

namespace SpectralDiffusion.Orchestrator.Scheduling;

/// <summary>Each iteration finds live workers whose lease passed (by the database clock) and loses them: their attempts abort on every rank.</summary>
public sealed class LeaseWatchdog(Database database, WorkerRegistry registry, IOptions<OrchestratorOptions> options) : IPeriodicWork
{
    public string Name => "lease watchdog";
    public Task WaitAsync(CancellationToken cancellation) => Task.Delay(options.Value.WatchdogInterval, cancellation);

    public async Task<int> ExecuteAsync(CancellationToken cancellation)
    {
        var expired = await database.ReadAsync(WorkerRepository.ExpiredAsync, cancellation);
        foreach (var workerId in expired)
            await registry.EndAsync(workerId, WorkerRepository.Lost, $"lease of {options.Value.Lease.TotalSeconds:0.#} s expired", cancellation);
        return expired.Count;
    }
}
