using System.Collections.Concurrent;
using System.Threading.Channels;
using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Delivery;

/// <summary>The open assignment streams of this process, one per worker. The scheduler only assigns connected workers.</summary>
public sealed class AssignmentHub
{
    readonly ConcurrentDictionary<Guid, Connection> connections = new();

    public Guid[] ConnectedWorkers => connections.Keys.ToArray();

    /// <summary>Opens the worker's stream; a previous stream of the same worker is closed as replaced.</summary>
    public Connection Connect(Guid workerId)
    {
        var connection = new Connection(workerId);
        connections.AddOrUpdate(workerId, connection, (_, old) =>
        {
            old.Replace();
            return connection;
        });
        return connection;
    }

    public void Disconnect(Connection connection) => connections.TryRemove(KeyValuePair.Create(connection.WorkerId, connection));

    /// <summary>Ends the worker's stream (the worker was lost or deregistered).</summary>
    public void Close(Guid workerId)
    {
        if (connections.TryRemove(workerId, out var connection)) connection.Orders.Writer.TryComplete();
    }

    public bool Send(Guid workerId, WorkerOrder order) =>
        connections.TryGetValue(workerId, out var connection) && connection.Orders.Writer.TryWrite(order);

    public sealed class Connection(Guid workerId)
    {
        public Guid WorkerId { get; } = workerId;
        public Channel<WorkerOrder> Orders { get; } = Channel.CreateUnbounded<WorkerOrder>(new UnboundedChannelOptions { SingleReader = true });
        /// <summary>A newer stream of the same worker took over; closing this one does not lose the worker.</summary>
        public bool Replaced { get; private set; }

        internal void Replace()
        {
            Replaced = true;
            Orders.Writer.TryComplete();
        }
    }
}
