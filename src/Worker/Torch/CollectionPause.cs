using System.Runtime;

namespace SpectralDiffusion.Worker.Torch;

/// <summary>
/// Holds the garbage collector off while a block of TorchSharp calls runs.
/// TorchSharp 0.107 turns every implicit scalar (the alpha of <c>a + b</c>, the factor of <c>x * 0.5</c>) into a
/// finalizable <c>Scalar</c> whose native handle is passed to libtorch and which nothing references afterwards. Once the
/// JIT has optimised those methods (tiered compilation, after some dozens of training steps) a collection during the
/// native call can finalize the Scalar and free it under libtorch's feet: long CPU runs then died at random with
/// "Expected false to be true ... toFloat at Scalar.h". Without a collection inside the block nothing becomes
/// unreachable mid-call; dead Scalars are finalized after the block, when their calls have returned.
/// The no-GC region is process-wide, so blocks on several threads (ranks run as threads, a sampler beside a trainer)
/// share one region: the first block to enter starts it and the last to leave ends it. A thread that left early must
/// not end the region under another thread's native call, which is exactly the collection the pause exists to prevent.
/// </summary>
public static class CollectionPause
{
    /// <summary>Managed allocation allowed inside one region (a training step allocates a few MB of wrappers).</summary>
    public const long BudgetBytes = 96L << 20;

    static readonly Lock Gate = new();
    static int holders;
    static bool started;

    /// <summary>How many blocks are inside the shared region now (for tests and diagnostics).</summary>
    public static int Holders { get { lock (Gate) return holders; } }

    public static T Run<T>(Func<T> block)
    {
        Enter();
        try
        {
            return block();
        }
        finally
        {
            Leave();
        }
    }

    public static void Run(Action block) => Run(() => { block(); return 0; });

    static void Enter()
    {
        lock (Gate)
        {
            // Nested or concurrent blocks join the region that is already held.
            if (holders++ == 0) started = TryPause();
        }
    }

    static void Leave()
    {
        lock (Gate)
        {
            if (--holders > 0 || !started) return;
            started = false;
            // The budget can be exceeded (then the runtime leaves the region itself and collections resume).
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
                try { GC.EndNoGCRegion(); } catch (InvalidOperationException) { }
            // Starting a region does not collect what the last block left behind; a young-generation collection here,
            // between blocks, does (cheap: almost everything a step allocates dies with it), so memory stays flat.
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        }
    }

    static bool TryPause()
    {
        if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) return false; // someone else holds a region
        try { return GC.TryStartNoGCRegion(BudgetBytes); }
        catch (InvalidOperationException) { return false; }
        catch (ArgumentOutOfRangeException) { return false; }
    }
}
