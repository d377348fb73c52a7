using Grpc.Core;
using Serilog;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>
/// Renews this worker's lease every <paramref name="interval"/> and touches <paramref name="aliveFile"/> after each
/// renewal. NOT_FOUND (the worker is gone on the orchestrator) and refused credentials end the registration's session;
/// INTERNAL and UNKNOWN are repeated within <see cref="UnexpectedErrors"/>; other failures (an outage) are retried on
/// the next beat.
/// </summary>
public sealed class HeartbeatLoop(
    HeartbeatStream heartbeats,
    TimeSpan interval,
    string aliveFile,
    Action<Exception?> lose,
    UnexpectedErrors errors,
    TimeProvider time,
    ILogger log,
    string workerId)
{
    /// <summary>Beats until <paramref name="session"/> is cancelled or the session is lost.</summary>
    public async Task RunAsync(CancellationToken session)
    {
        try
        {
            while (!session.IsCancellationRequested)
            {
                try
                {
                    await heartbeats.BeatAsync(session);
                    errors.Succeeded();
                    File.WriteAllText(aliveFile, time.GetUtcNow().UtcDateTime.ToString("O"));
                }
                catch (RpcException e) when (!session.IsCancellationRequested)
                {
                    if (errors.EndsSession(e, out var failure))
                    {
                        if (failure is null) log.Warning("Heartbeat refused: worker {WorkerId} is gone on the orchestrator; registering again", workerId);
                        lose(failure);
                        return;
                    }
                    log.Warning("Heartbeat failed ({Status}); retrying", e.Status.Detail);
                }
                await Task.Delay(interval, time, session);
            }
        }
        catch (OperationCanceledException) when (session.IsCancellationRequested) { }
        catch (RpcException) when (session.IsCancellationRequested) { }
    }
}
