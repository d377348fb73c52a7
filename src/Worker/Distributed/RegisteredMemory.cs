using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// CPU tensors over memory this program manages (a registered shared-memory region), made without a copy: libtorch's
/// <c>from_blob</c> through LibTorchSharp's native <c>THSTensor_new</c>, which TorchSharp 0.107 uses internally but does
/// not expose. The declaration below is TorchSharp 0.107.0's (data, deleter, sizes, number of sizes, element type of the
/// data, dtype of the tensor, device type, device index, requires_grad); with equal types and the CPU device the native
/// side wraps the memory as it is. This file is the only place that depends on that entry point: check the declaration
/// against TorchSharp's <c>NativeMethods.THSTensor_new</c> when upgrading TorchSharp.
/// When libtorch frees the storage (the last tensor or view over it disposed or finalised, on whatever thread), it calls
/// the deleter with the data address, which runs the release action given at creation.
/// </summary>
static unsafe partial class RegisteredMemory
{
    const int CpuDevice = 0;
    static readonly ConcurrentDictionary<nint, Action> releases = new();

    [LibraryImport("LibTorchSharp", EntryPoint = "THSTensor_new")]
    private static partial nint NewTensor(nint data, delegate* unmanaged[Cdecl]<nint, void> deleter, long* sizes, int sizeCount,
        sbyte dataType, sbyte dtype, int deviceType, int deviceIndex, [MarshalAs(UnmanagedType.U1)] bool requiresGrad);

    /// <summary>
    /// A contiguous CPU tensor of <paramref name="shape"/> and <paramref name="dtype"/> whose elements are the memory at
    /// <paramref name="data"/>, which must stay mapped until <paramref name="release"/> runs (once, when libtorch frees
    /// the storage). The tensor is not in any dispose scope.
    /// </summary>
    public static Tensor Wrap(nint data, ReadOnlySpan<long> shape, ScalarType dtype, Action release)
    {
        if (!releases.TryAdd(data, release))
            throw new InvalidOperationException($"registered memory at 0x{data:x} already backs a live tensor");
        nint handle;
        fixed (long* sizes = shape)
            handle = NewTensor(data, &Released, sizes, shape.Length, (sbyte)dtype, (sbyte)dtype, CpuDevice, -1, false);
        if (handle == 0)
        {
            releases.TryRemove(data, out _);
            CheckForErrors();
            throw new InvalidOperationException($"libtorch could not create a {dtype} tensor over registered memory");
        }
        return Tensor.UnsafeCreateTensor(handle).DetachFromDisposeScope();
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    static void Released(nint data)
    {
        if (releases.TryRemove(data, out var release)) release();
    }
}
