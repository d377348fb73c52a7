using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.TestSupport;

/// <summary>Conditions under which libtorch kernels that read uninitialised memory show it.</summary>
static class TorchStress
{
    /// <summary>
    /// Fills and frees many small NaN tensors, so the allocator hands NaN-filled memory to the next kernels: a kernel that
    /// reads memory it never wrote then yields NaN instead of whatever zeros a fresh page would give.
    /// </summary>
    public static void PoisonFreedMemory()
    {
        using var scope = NewDisposeScope();
        for (var k = 0; k < 64; k++) full(new long[] { 1024 * (1 + k % 16) }, float.NaN);
    }

    /// <summary>Runs <paramref name="body"/> with torch's intra-op thread count set, then restores it.</summary>
    public static void WithThreads(int threads, Action body)
    {
        var previous = get_num_threads();
        set_num_threads(threads);
        try { body(); }
        finally { set_num_threads(previous); }
    }
}
