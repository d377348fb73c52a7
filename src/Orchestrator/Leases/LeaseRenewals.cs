using System.Collections.Concurrent;
using System.Diagnostics;

namespace SpectralDiffusion.Orchestrator.Leases;

/// <summary>
/// Heartbeats are answered from memory and written to PostgreSQL in batches. This holds what a heartbeat needs: whether
/// each worker is live, as this process last learnt it (from Register, a lookup, or the end of the worker), and the
/// newest heartbeat of each worker that is not yet written. The lease watchdog writes the renewals, all in one statement,
/// in the transaction in which it judges leases, so no lease is ever judged without them (docs/recovery.md, "Leases
/// across outages", says what a restart can lose and why it costs nothing).
/// </summary>
public sealed class LeaseRenewals
{
    readonly ConcurrentDictionary<Guid, bool> live = new();
    readonly Lock gate = new();
    Dictionary<Guid, long> unwritten = [];

    /// <summary>One worker's newest unwritten heartbeat, as a <see cref="Stopwatch"/> timestamp of when it arrived.</summary>
    public readonly record struct Renewal(Guid WorkerId, long ReceivedAt)
    {
        /// <summary>How long ago the heartbeat arrived (the durable write dates it back by this much, by the database clock).</summary>
        public TimeSpan Age => Stopwatch.GetElapsedTime(ReceivedAt);
    }

    /// <summary>True or false when this process knows whether the worker is live; null when it must look it up.</summary>
    public bool? IsLive(Guid workerId) => live.TryGetValue(workerId, out var known) ? known : null;

    /// <summary>Records a lookup's answer, unless Register or the worker's end told this process meanwhile (they win).</summary>
    public void LearnLive(Guid workerId, bool isLive) => live.TryAdd(workerId, isLive);

    public void Registered(Guid workerId) => live[workerId] = true;

    /// <summary>The worker was lost or deregistered (committed): its heartbeats are refused from now on, and an unwritten one is dropped.</summary>
    public void Ended(Guid workerId)
    {
        live[workerId] = false;
        lock (gate) unwritten.Remove(workerId);
    }

    public void Renew(Guid workerId)
    {
        var now = Stopwatch.GetTimestamp();
        lock (gate) unwritten[workerId] = now;
    }

    /// <summary>Whether a heartbeat of this worker arrived that is not written yet (the watchdog then does not judge its lease).</summary>
    public bool HasUnwritten(Guid workerId)
    {
        lock (gate) return unwritten.ContainsKey(workerId);
    }

    public int UnwrittenCount
    {
        get { lock (gate) return unwritten.Count; }
    }

    /// <summary>Forgets everything: a takeover looks liveness up again, and its first watchdog iteration grants every live lease.</summary>
    public void Forget()
    {
        lock (gate) unwritten = [];
        live.Clear();
    }

    /// <summary>Takes every unwritten renewal, in worker id order (so concurrent batches lock rows in one order).</summary>
    public Renewal[] Take()
    {
        Dictionary<Guid, long> taken;
        lock (gate) (taken, unwritten) = (unwritten, []);
        return taken.Select(p => new Renewal(p.Key, p.Value)).OrderBy(r => r.WorkerId).ToArray();
    }

    /// <summary>Puts back renewals whose write failed; a newer heartbeat that arrived meanwhile is kept instead.</summary>
    public void Restore(IEnumerable<Renewal> renewals)
    {
        lock (gate)
            foreach (var renewal in renewals)
                if (live.TryGetValue(renewal.WorkerId, out var isLive) && isLive)
                    unwritten.TryAdd(renewal.WorkerId, renewal.ReceivedAt);
    }
}
