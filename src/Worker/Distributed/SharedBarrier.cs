namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// The barrier of a <see cref="SharedMemoryCollective"/>: arrival counters in the ranks' slots of the segment. A waiting
/// rank spins briefly and then sleeps on the header's futex word, so it leaves the core to the ranks still computing. It
/// fails with a <see cref="CollectiveException"/> when a peer aborts, leaves, or its process exits, and after the timeout
/// otherwise; a failure marks the group broken everywhere, so the other ranks fail at once instead of at their timeout.
/// </summary>
sealed unsafe class SharedBarrier(SharedSegmentLayout layout, int rank, int worldSize, TimeSpan timeout)
{
    static readonly TimeSpan LivenessCheckEvery = TimeSpan.FromMilliseconds(50);
    const int SpinsBeforeSleeping = 64;

    long arrivals;
    volatile string? brokenBecause;

    int* AbortWord => &layout.Header->AbortWord;
    int* WakeWord => &layout.Header->WakeWord;

    /// <summary>Why this rank can no longer take part, or null while it can.</summary>
    public string? BrokenBecause => brokenBecause;

    /// <summary>Registers this rank's process in its slot (present, nothing arrived yet).</summary>
    public void Attach()
    {
        layout.Slot(rank)->Pid = Environment.ProcessId;
        layout.Slot(rank)->State = RankSlot.Present;
    }

    /// <summary>Arrives at the next barrier and waits until every rank has.</summary>
    public void Wait(string operation)
    {
        var target = ++arrivals;
        Volatile.Write(ref layout.Slot(rank)->Arrivals, target);
        Wake();
        var spins = 0;
        var started = DateTime.UtcNow;
        var nextLivenessCheck = started + LivenessCheckEvery;
        for (var waiting = 0; waiting < worldSize;)
        {
            var generation = Volatile.Read(ref *WakeWord);
            if (Volatile.Read(ref *AbortWord) is var aborted and > 0)
                throw Break(new CollectiveException($"{operation}: rank {aborted - 1} aborted the collective"));
            var slot = layout.Slot(waiting);
            if (Volatile.Read(ref slot->Arrivals) >= target)
            {
                waiting++;
                continue;
            }
            if (Volatile.Read(ref slot->State) == RankSlot.Left)
                throw Break(new CollectiveException($"{operation}: rank {waiting} left the group (it disposed its collective) before this barrier"));
            if (brokenBecause is { } reason)
                throw new CollectiveException($"{operation}: {reason}");
            if (spins++ < SpinsBeforeSleeping)
            {
                Thread.SpinWait(32);
                continue;
            }
            SharedWait.Wait(WakeWord, generation, (int)LivenessCheckEvery.TotalMilliseconds);
            var now = DateTime.UtcNow;
            if (now < nextLivenessCheck) continue;
            nextLivenessCheck = now + LivenessCheckEvery;
            var pid = Volatile.Read(ref slot->Pid);
            if (pid != 0 && !ProcessLiveness.IsAlive(pid))
                throw Break(new CollectiveException($"{operation}: rank {waiting} (process {pid}) exited while this rank waited for it (the peer died)"));
            if (now - started > timeout)
                throw Break(new CollectiveException($"{operation}: rank {waiting} did not arrive within the timeout of {timeout.TotalSeconds:0.###} s"));
        }
    }

    /// <summary>This rank stops the group: every rank waiting now or later fails naming it.</summary>
    public void Abort()
    {
        brokenBecause ??= $"rank {rank} aborted the collective";
        Interlocked.CompareExchange(ref *AbortWord, rank + 1, 0);
        Wake();
    }

    /// <summary>Marks this rank unusable locally (e.g. an abort after it left the segment), without touching the segment.</summary>
    public void MarkBroken(string reason) => brokenBecause ??= reason;

    /// <summary>This rank leaves the group: a rank waiting for it fails instead of waiting out the timeout.</summary>
    public void Leave()
    {
        brokenBecause ??= "the collective was disposed";
        Volatile.Write(ref layout.Slot(rank)->State, RankSlot.Left);
        Wake();
    }

    /// <summary>Marks the group broken everywhere, so the other ranks fail at once instead of at their timeout.</summary>
    public CollectiveException Break(CollectiveException e)
    {
        brokenBecause ??= e.Message;
        Interlocked.CompareExchange(ref *AbortWord, rank + 1, 0);
        Wake();
        return e;
    }

    void Wake()
    {
        Interlocked.Increment(ref *WakeWord);
        SharedWait.WakeAll(WakeWord);
    }
}
