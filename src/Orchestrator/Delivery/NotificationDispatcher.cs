using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Coordination;
using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Delivery;

/// <summary>Delivers the <see cref="Notifications"/> of a committed transaction: orders to worker streams, events to watchers.</summary>
public sealed class NotificationDispatcher(Database database, AssignmentHub assignments, JobEventHub events, RendezvousWaiters rendezvous,
    ILogger<NotificationDispatcher> logger)
{
    public async Task DispatchAsync(Notifications notifications, CancellationToken cancellation)
    {
        foreach (var (workerId, order) in notifications.Orders)
            if (!assignments.Send(workerId, order))
                logger.LogDebug("Worker {WorkerId} has no open assignment stream; its {Order} order is not delivered",
                    workerId, order is StartOrder ? "start" : "abort");
        foreach (var rendezvousId in notifications.EndedRendezvous) rendezvous.Drop(rendezvousId);
        foreach (var (jobId, message) in notifications.JobEvents)
        {
            if (!events.HasWatchers(jobId)) continue;
            var job = await database.ReadAsync((connection, token) => JobRepository.GetAsync(connection, jobId, token), cancellation);
            if (job is not null) events.Publish(jobId, new JobChange(job, message, DateTime.UtcNow));
        }
    }
}
