using System.Numerics;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>target += source over raw memory, vectorised: the reduction step of the ring all-reduce.</summary>
static class ElementwiseSum
{
    public static unsafe void AddInto<T>(T* target, T* source, long count) where T : unmanaged, IAdditionOperators<T, T, T>
    {
        long i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var width = Vector<T>.Count;
            for (; i + width <= count; i += width)
                Vector.Store(Vector.Load(target + i) + Vector.Load(source + i), target + i);
        }
        for (; i < count; i++)
            target[i] += source[i];
    }

    /// <summary>target += source, storing each sum in <paramref name="copy"/> too (one pass instead of an add then a copy).</summary>
    public static unsafe void AddIntoAndCopy<T>(T* target, T* source, T* copy, long count) where T : unmanaged, IAdditionOperators<T, T, T>
    {
        long i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var width = Vector<T>.Count;
            for (; i + width <= count; i += width)
            {
                var sum = Vector.Load(target + i) + Vector.Load(source + i);
                Vector.Store(sum, target + i);
                Vector.Store(sum, copy + i);
            }
        }
        for (; i < count; i++)
            copy[i] = target[i] += source[i];
    }
}
