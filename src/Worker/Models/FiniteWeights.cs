using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Models;

/// <summary>
/// Weights given as inputs (a model, a teacher, a first stage, Inception) are checked for NaN and infinite values as they
/// load: training from them would diverge at step 0 and an evaluation would sample everything before it showed, so a
/// damaged file fails at once, as a permanent failure, naming the file and its first bad tensor.
/// </summary>
public static class FiniteWeights
{
    /// <summary>Throws <see cref="NonFiniteWeightsException"/> at the first floating-point tensor (in name order) holding
    /// a NaN or an infinity.</summary>
    public static void Require(string source, IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        foreach (var (name, tensor) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var count = NonFiniteCount(tensor);
            if (count > 0) throw new NonFiniteWeightsException(source, name, count, tensor.numel());
        }
    }

    /// <summary>How many NaN or infinite values a tensor holds (0 for integer and boolean tensors).</summary>
    public static long NonFiniteCount(Tensor tensor)
    {
        if (!tensor.is_floating_point()) return 0;
        using var nonFinite = tensor.isfinite().logical_not().sum();
        return nonFinite.item<long>();
    }
}

/// <summary>A weights file holding NaN or infinite values: damaged, or written by a run that diverged.</summary>
public sealed class NonFiniteWeightsException(string source, string tensor, long count, long total)
    : Exception($"{source}: tensor '{tensor}' holds {count} NaN or infinite value(s) of {total}; " +
                           "the weights are damaged or come from a run that diverged (use another checkpoint)")
{
    public string Tensor { get; } = tensor;
}
