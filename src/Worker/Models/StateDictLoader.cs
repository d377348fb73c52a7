using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Models;

/// <summary>Copies a name → tensor map into a module, strictly by default (like PyTorch's <c>load_state_dict(strict=True)</c>).</summary>
public static class StateDictLoader
{
    /// <summary>Loads <paramref name="tensors"/>; throws <see cref="StateDictMismatchException"/> listing missing, unexpected
    /// and wrongly-shaped keys (in strict mode; otherwise only wrongly-shaped keys are an error), and
    /// <see cref="NonFiniteWeightsException"/> when a tensor the model takes holds a NaN or an infinity.</summary>
    public static void Load(nn.Module module, IReadOnlyDictionary<string, Tensor> tensors, string source, bool strict = true)
    {
        var own = module.state_dict();
        var missing = own.Keys.Where(k => !tensors.ContainsKey(k)).ToList();
        var unexpected = tensors.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var wrongShape = own.Where(o => tensors.TryGetValue(o.Key, out var t) && !t.shape.SequenceEqual(o.Value.shape))
            .Select(o => $"{o.Key} (checkpoint [{string.Join(", ", tensors[o.Key].shape)}], model [{string.Join(", ", o.Value.shape)}])").ToList();
        if (wrongShape.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
            throw new StateDictMismatchException(source, missing, unexpected, wrongShape);
        FiniteWeights.Require(source, tensors.Where(t => own.ContainsKey(t.Key)));
        using var _ = no_grad();
        foreach (var (key, target) in own)
            if (tensors.TryGetValue(key, out var value)) target.copy_(value);
    }
}

/// <summary>A checkpoint whose keys do not fit the model: another architecture or preset.</summary>
public sealed class StateDictMismatchException(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> wrongShape)
    : Exception(Describe(source, missing, unexpected, wrongShape))
{
    public IReadOnlyList<string> Missing { get; } = missing;
    public IReadOnlyList<string> Unexpected { get; } = unexpected;
    public IReadOnlyList<string> WrongShape { get; } = wrongShape;

    static string Describe(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> wrongShape)
    {
        const int shown = 10;
        static string List(string title, IReadOnlyList<string> keys) => keys.Count == 0 ? "" :
            $"\n  {title} ({keys.Count}): {string.Join(", ", keys.Take(shown))}{(keys.Count > shown ? $", … {keys.Count - shown} more" : "")}";
        return $"{source} does not fit this model (another architecture or preset?)" +
               List("missing keys", missing) + List("unexpected keys", unexpected) + List("wrongly-shaped keys", wrongShape);
    }
}
