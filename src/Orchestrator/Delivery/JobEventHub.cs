using System.Collections.Concurrent;
using System.Threading.Channels;
using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Delivery;

/// <summary>Watchers of jobs in this process: <c>Jobs.Watch</c> subscribes, the dispatcher publishes after each commit.</summary>
public sealed class JobEventHub
{
    readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Subscription, byte>> watchers = new();

    public Subscription Subscribe(Guid jobId)
    {
        var subscription = new Subscription(jobId, this);
        watchers.GetOrAdd(jobId, _ => new()).TryAdd(subscription, 0);
        return subscription;
    }

    public bool HasWatchers(Guid jobId) => watchers.TryGetValue(jobId, out var set) && !set.IsEmpty;

    public void Publish(Guid jobId, JobChange change)
    {
        if (!watchers.TryGetValue(jobId, out var set)) return;
        foreach (var subscription in set.Keys) subscription.Events.Writer.TryWrite(change);
    }

    void Unsubscribe(Subscription subscription)
    {
        if (watchers.TryGetValue(subscription.JobId, out var set)) set.TryRemove(subscription, out _);
    }

    public sealed class Subscription(Guid jobId, JobEventHub hub) : IDisposable
    {
        public Guid JobId { get; } = jobId;
        public Channel<JobChange> Events { get; } = Channel.CreateUnbounded<JobChange>(new UnboundedChannelOptions { SingleReader = true });
        public void Dispose() => hub.Unsubscribe(this);
    }
}
