using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// Where <see cref="GradientSynchronizer"/> flattens its gradient buckets when the collective offers registered memory
/// (<see cref="IRegisteredBuffers"/>): one flat tensor per bucket, allocated in bucket order and so at the same offsets
/// on every rank, kept across steps while the buckets keep their shapes. A bucket that does not fit in what is left of
/// the region (or that is not a CPU bucket of a type the all-reduce sums) gets none and is flattened by copying.
/// </summary>
public sealed class RegisteredBucketLayout : IDisposable
{
    readonly BucketShape[] shapes;
    readonly Tensor?[] flats;

    RegisteredBucketLayout(BucketShape[] shapes, Tensor?[] flats) => (this.shapes, this.flats) = (shapes, flats);

    /// <summary>What a bucket needs from the region: its element type, total elements and device.</summary>
    public readonly record struct BucketShape(ScalarType Dtype, long Elements, DeviceType Device)
    {
        /// <summary>The shape of the flat tensor holding <paramref name="bucket"/> (consecutive tensors of one dtype and device).</summary>
        public static BucketShape Of(IReadOnlyList<Tensor> bucket) => new(bucket[0].dtype, bucket.Sum(t => t.NumberOfElements), bucket[0].device_type);

        internal bool CanRegister => Device == DeviceType.CPU && Dtype is ScalarType.Float32 or ScalarType.Float64 or ScalarType.Int64 or ScalarType.Int32;
    }

    /// <summary>Allocates the buckets' flat tensors in order, each one that still fits; the rest stay null.</summary>
    public static RegisteredBucketLayout Allocate(IRegisteredBuffers buffers, IReadOnlyList<BucketShape> buckets)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        ArgumentNullException.ThrowIfNull(buckets);
        var flats = buckets.Select(shape => shape.CanRegister ? buffers.TryAllocateRegistered(shape.Dtype, shape.Elements) : null).ToArray();
        return new RegisteredBucketLayout([.. buckets], flats);
    }

    public int Count => flats.Length;

    /// <summary>The registered flat tensor of bucket <paramref name="bucket"/>, or null when it is flattened by copying.</summary>
    public Tensor? this[int bucket] => flats[bucket];

    /// <summary>How many buckets have a registered flat tensor.</summary>
    public int RegisteredCount => flats.Count(flat => flat is not null);

    /// <summary>Whether this layout was made for exactly these buckets.</summary>
    public bool Matches(IReadOnlyList<BucketShape> buckets) => buckets.SequenceEqual(shapes);

    /// <summary>Disposes the flat tensors, which returns their ranges to the region.</summary>
    public void Dispose()
    {
        for (var i = 0; i < flats.Length; i++)
        {
            flats[i]?.Dispose();
            flats[i] = null;
        }
    }
}
