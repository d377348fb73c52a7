using System.Numerics;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>A CPU collective's all-reduce over raw host memory of one element type.</summary>
interface IHostSum
{
    void AllReduceSum<T>(nint data, long count) where T : unmanaged, IAdditionOperators<T, T, T>;
}

/// <summary>What the CPU backends share: the element types they sum, picked from a tensor's dtype.</summary>
static class HostSum
{
    /// <summary>Sums <paramref name="tensor"/> in place through <paramref name="collective"/> (Float32, Float64, Int64 or Int32).</summary>
    public static void AllReduceSum(IHostSum collective, Tensor tensor, string backend)
    {
        var (pointer, bytes) = TensorMemory.Host(tensor, nameof(tensor));
        switch (tensor.dtype)
        {
            case ScalarType.Float32: collective.AllReduceSum<float>(pointer, bytes / sizeof(float)); break;
            case ScalarType.Float64: collective.AllReduceSum<double>(pointer, bytes / sizeof(double)); break;
            case ScalarType.Int64: collective.AllReduceSum<long>(pointer, bytes / sizeof(long)); break;
            case ScalarType.Int32: collective.AllReduceSum<int>(pointer, bytes / sizeof(int)); break;
            default: throw new ArgumentException($"tensor has dtype {tensor.dtype}; the {backend} all-reduce sums Float32, Float64, Int64 or Int32", nameof(tensor));
        }
    }

    /// <summary>The torch dtype number of an element type, identical in every process (broadcasts move bytes and send 0).</summary>
    public static int ElementCode<T>() => typeof(T) == typeof(float) ? (int)ScalarType.Float32
        : typeof(T) == typeof(double) ? (int)ScalarType.Float64
        : typeof(T) == typeof(long) ? (int)ScalarType.Int64
        : typeof(T) == typeof(int) ? (int)ScalarType.Int32
        : throw new ArgumentException($"the CPU all-reduce sums float, double, long or int, not {typeof(T).Name}");
}
