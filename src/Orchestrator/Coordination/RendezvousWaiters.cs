using System.Collections.Concurrent;
using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Coordination;

/// <summary>
/// The rendezvous gets waiting in this process and the values put through it, a namespace per rendezvous id. A put
/// wakes every get waiting for its key; dropping a namespace (its attempt ended) fails the gets still waiting.
/// <see cref="RendezvousStore"/> keeps the values in PostgreSQL, so that they outlive this process.
/// </summary>
public sealed class RendezvousWaiters
{
    readonly ConcurrentDictionary<Guid, ConcurrentDictionary<string, TaskCompletionSource<byte[]>>> namespaces = new();

    /// <summary>Sets (or overwrites) a key and wakes every get waiting for it.</summary>
    public void Put(Guid rendezvousId, string key, byte[] value)
    {
        var slots = namespaces.GetOrAdd(rendezvousId, _ => new());
        while (true)
        {
            var slot = slots.GetOrAdd(key, _ => NewSlot());
            if (slot.TrySetResult(value)) return;
            var replacement = NewSlot();
            replacement.SetResult(value);
            if (slots.TryUpdate(key, replacement, slot)) return;
        }
    }

    /// <summary>The key's value, waiting up to <paramref name="timeout"/> for a put (DEADLINE_EXCEEDED naming the key).</summary>
    public async Task<byte[]> GetAsync(Guid rendezvousId, string key, TimeSpan timeout, CancellationToken cancellation)
    {
        var slot = namespaces.GetOrAdd(rendezvousId, _ => new()).GetOrAdd(key, _ => NewSlot());
        try
        {
            return await slot.Task.WaitAsync(timeout, cancellation);
        }
        catch (TimeoutException)
        {
            throw new OrchestratorException(OrchestratorErrorKind.DeadlineExceeded,
                $"rendezvous {rendezvousId}: key '{key}' was not put within {timeout.TotalSeconds:0.###} s");
        }
        catch (TaskCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new OrchestratorException(OrchestratorErrorKind.Aborted, $"rendezvous {rendezvousId} ended (its attempt is over) while waiting for '{key}'");
        }
    }

    /// <summary>Forgets an ended attempt's namespace; waiting gets fail with ABORTED.</summary>
    public void Drop(Guid rendezvousId)
    {
        if (!namespaces.TryRemove(rendezvousId, out var slots)) return;
        foreach (var slot in slots.Values) slot.TrySetCanceled();
    }

    public int NamespaceCount => namespaces.Count;

    static TaskCompletionSource<byte[]> NewSlot() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
