using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Delivery;

/// <summary>
/// What a committed transaction must tell the outside world: assignment orders for workers, job events for watchers,
/// rendezvous namespaces to drop. Collected inside the unit of work (a fresh one per retry), dispatched after commit.
/// </summary>
public sealed class Notifications
{
    public List<(Guid WorkerId, WorkerOrder Order)> Orders { get; } = [];
    public List<(Guid JobId, string Message)> JobEvents { get; } = [];
    public List<Guid> EndedRendezvous { get; } = [];

    public void Send(Guid workerId, WorkerOrder order) => Orders.Add((workerId, order));
    public void JobChanged(Guid jobId, string message) => JobEvents.Add((jobId, message));
    public void RendezvousEnded(Guid rendezvousId) => EndedRendezvous.Add(rendezvousId);
}
