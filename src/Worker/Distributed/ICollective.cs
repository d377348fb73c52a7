using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// The collectives of one rank in a group of <see cref="WorldSize"/> ranks: every rank must call the
/// same operations in the same order with tensors of the same dtype and element count.
/// After a <see cref="CollectiveException"/> the group is broken: tear down the attempt and start a new one.
/// </summary>
public interface ICollective : IDisposable
{
    int Rank { get; }
    int WorldSize { get; }

    /// <summary>Replaces <paramref name="tensor"/> on every rank by the element-wise sum over all ranks (in place).</summary>
    void AllReduceSum(Tensor tensor);

    /// <summary>Copies <paramref name="root"/>'s <paramref name="tensor"/> into every other rank's (in place).</summary>
    void Broadcast(Tensor tensor, int root);

    /// <summary>Returns once every rank has entered the barrier.</summary>
    void Barrier();

    /// <summary>Tears the group down at once (from any thread): pending and later operations on every rank fail instead of waiting.</summary>
    void Abort();
}
