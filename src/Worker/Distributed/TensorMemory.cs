using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>The raw memory behind a contiguous tensor, which the collectives read and write in place.</summary>
static class TensorMemory
{
    /// <summary>The address and byte length of a contiguous CPU tensor's elements (storage offset included).</summary>
    public static unsafe (nint Pointer, long Bytes) Host(Tensor tensor, string argument)
    {
        ArgumentNullException.ThrowIfNull(tensor, argument);
        if (tensor.device_type != DeviceType.CPU)
            throw new ArgumentException($"{argument} is on {tensor.device}; the tcp backend reduces CPU tensors (cuda jobs use the nccl backend)", argument);
        RequireContiguous(tensor, argument);
        if (tensor.NumberOfElements == 0) return (0, 0);
        var bytes = tensor.NumberOfElements * tensor.ElementSize;
        if (bytes > int.MaxValue)
            throw new ArgumentException($"{argument} holds {bytes} bytes; pass tensors under 2 GiB (split larger ones with narrow)", argument);
        // Tensor.bytes is a span over the tensor's own memory (data_ptr, storage offset included), not a copy.
        var span = tensor.bytes;
        return ((nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span)), span.Length);
    }

    /// <summary>The device address of a contiguous CUDA tensor's first element: the storage's pointer plus its offset.</summary>
    public static nint Device(Tensor tensor, string argument)
    {
        ArgumentNullException.ThrowIfNull(tensor, argument);
        if (tensor.device_type != DeviceType.CUDA)
            throw new ArgumentException($"{argument} is on {tensor.device}; the nccl backend reduces CUDA tensors (cpu jobs use the tcp backend)", argument);
        RequireContiguous(tensor, argument);
        nint storage = tensor.dtype switch
        {
            ScalarType.Float32 => tensor.storage<float>().data_ptr(),
            ScalarType.Float64 => tensor.storage<double>().data_ptr(),
            ScalarType.Int64 => tensor.storage<long>().data_ptr(),
            ScalarType.Int32 => tensor.storage<int>().data_ptr(),
            ScalarType.Byte => tensor.storage<byte>().data_ptr(),
            _ => throw new ArgumentException($"{argument} has dtype {tensor.dtype}; the nccl backend takes Float32, Float64, Int64, Int32 or Byte tensors", argument),
        };
        return storage + checked((nint)(tensor.storage_offset() * tensor.ElementSize));
    }

    static void RequireContiguous(Tensor tensor, string argument)
    {
        if (!tensor.is_contiguous())
            throw new ArgumentException($"{argument} is not contiguous; collectives work in place on contiguous tensors (call .contiguous() and copy the result back)", argument);
    }
}
