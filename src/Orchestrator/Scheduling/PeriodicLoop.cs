namespace SpectralDiffusion.Orchestrator.Scheduling;

/// <summary>
/// Drives one <see cref="IPeriodicWork"/> until shutdown. An iteration in progress at shutdown is allowed to finish
/// (it runs without the stopping token), so its transaction commits; an iteration that throws is logged and retried next time.
/// </summary>
public sealed class PeriodicLoop<T>(T work, ILogger<PeriodicLoop<T>> logger) : BackgroundService where T : IPeriodicWork
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await work.ExecuteAsync(CancellationToken.None);
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
