using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Standby;

namespace SpectralDiffusion.Orchestrator.Scheduling;

/// <summary>
/// Drives one <see cref="IPeriodicWork"/> until shutdown, while this process is the active orchestrator (a standby waits).
/// An iteration in progress at shutdown is allowed to finish (it runs without the stopping token), so its transaction
/// commits; one in progress when the term ends is cancelled. An iteration that throws is logged and retried next time.
/// </summary>
public sealed class PeriodicLoop<T>(T work, Leadership leadership, ILogger<PeriodicLoop<T>> logger) : BackgroundService where T : IPeriodicWork
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await leadership.WaitActiveAsync(stoppingToken); }
            catch (OperationCanceledException) { break; }
            var term = leadership.TermEnded;
            try
            {
                await TermFence.RunAsync(leadership.FencingTerm, () => work.ExecuteAsync(term));
            }
            catch (TermEndedException e)
            {
                logger.LogWarning("The {Loop} iteration's write was refused: {Reason}", work.Name, e.Message);
            }
            catch (OperationCanceledException) when (term.IsCancellationRequested)
            {
                logger.LogWarning("The {Loop} iteration was cancelled: this process is no longer the active orchestrator", work.Name);
            }
            catch (Exception e)
            {
                logger.LogError(e, "The {Loop} iteration failed; retrying next interval", work.Name);
            }
            try { await work.WaitAsync(stoppingToken); }
            catch (OperationCanceledException) { break; }
        }
    }
}
