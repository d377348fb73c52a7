using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Models;

/// <summary>
/// A caption embedding on disk: a safetensors file holding one floating-point tensor (or one named <c>context</c>) of shape
/// (L, D), or (N, L, D) for N captions, as the user's own text encoder wrote it (docs/text-conditioning.md).
/// </summary>
public static class ContextFile
{
    public const string TensorName = "context";

    /// <summary>The tensor as float32 (L, D) or (N, L, D); errors name the file, the field that named it and what is wrong.</summary>
    /// <param name="field">the option or spec field that named the file (e.g. "--context", "conditioning.null_context").</param>
    /// <param name="contextDim">the preset's context_dim: D must equal it.</param>
    public static Tensor Read(string path, string field, long contextDim, bool allowBatch = true)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{field}: caption embedding file '{path}' does not exist", path);
        var tensors = SafetensorsFile.Read(path).Tensors;
        Tensor tensor;
        if (tensors.Count == 1) tensor = tensors.Values.Single();
        else if (!tensors.TryGetValue(TensorName, out tensor!))
            throw new InvalidDataException($"{field}: '{path}' holds {tensors.Count} tensors ({string.Join(", ", tensors.Keys.Take(5))}); " +
                                           $"a caption embedding file holds one tensor, or one named '{TensorName}'");
        var shape = string.Join(", ", tensor.shape);
        if (!tensor.is_floating_point())
            throw new InvalidDataException($"{field}: '{path}' holds a {tensor.dtype} tensor; caption embeddings are floating point");
        if (tensor.dim() != 2 && !(allowBatch && tensor.dim() == 3))
            throw new InvalidDataException($"{field}: '{path}' holds a ({shape}) tensor; expected (L, D){(allowBatch ? " or (N, L, D)" : "")}");
        if (tensor.shape[^2] == 0)
            throw new InvalidDataException($"{field}: '{path}' holds ({shape}): L = 0, a caption embedding needs at least one token");
        if (tensor.shape[^1] != contextDim)
            throw new InvalidDataException($"{field}: '{path}' holds ({shape}): D = {tensor.shape[^1]} does not match the preset's context_dim {contextDim}");
        if (tensor.dim() == 3 && tensor.shape[0] == 0)
            throw new InvalidDataException($"{field}: '{path}' holds ({shape}): no captions");
        return tensor.to(ScalarType.Float32);
    }

    /// <summary>Writes one (L, D) or (N, L, D) tensor in the layout <see cref="Read"/> takes.</summary>
    public static void Write(string path, Tensor context) =>
        SafetensorsFile.Write(path, new Dictionary<string, Tensor> { [TensorName] = context.to(ScalarType.Float32).contiguous() });
}
