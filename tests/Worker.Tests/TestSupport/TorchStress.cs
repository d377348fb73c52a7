using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.TestSupport;

/// <summary>Conditions under which libtorch kernels that read uninitialised memory show it.</summary>
static class TorchStress
{
    /// <summary>The allocator hands NaN-filled memory to the next kernels (see <see cref="ConvolutionSelfCheck.PoisonFreedMemory"/>).</summary>
    public static void PoisonFreedMemory() => ConvolutionSelfCheck.PoisonFreedMemory();

    /// <summary>Runs <paramref name="body"/> with torch's intra-op thread count set, then restores it.</summary>
    public static void WithThreads(int threads, Action body)
    {
        var previous = get_num_threads();
        set_num_threads(threads);
        try { body(); }
        finally { set_num_threads(previous); }
    }
}
