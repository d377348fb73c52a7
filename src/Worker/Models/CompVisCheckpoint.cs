using System.Collections;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Models;

/// <summary>
/// Reads CompVis latent-diffusion checkpoints: a Lightning <c>.ckpt</c> or zip-format <c>.pth</c> (pickled dict with a
/// <c>state_dict</c>, or the state dict itself) or a safetensors file, with keys <c>model.diffusion_model.*</c> (or bare
/// UNet keys). With <c>ema</c> it reads the LitEma copy <c>model_ema.*</c>, whose names have their dots removed.
/// </summary>
public static class CompVisCheckpoint
{
    public const string UNetPrefix = "model.diffusion_model.";
    public const string EmaPrefix = "model_ema.diffusion_model";
    /// <summary>The cin models' ClassEmbedder lives outside the UNet in CompVis; here it is the UNet's context_emb.</summary>
    public const string ClassEmbedderKey = "cond_stage_model.embedding.weight";
    public const string ContextEmbeddingKey = "context_emb.weight";

    /// <summary>Every tensor of the file, as stored (CPU).</summary>
    public static Dictionary<string, Tensor> ReadRaw(string path)
    {
        CheckpointFormatException.RequireFile(path);
        if (Path.GetExtension(path).Equals(".safetensors", StringComparison.OrdinalIgnoreCase))
            return SafetensorsFile.Read(path).Tensors;
        Hashtable table;
        try
        {
            table = PyTorchUnpickler.UnpickleStateDict(path);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new CheckpointFormatException(path, $"not a readable zip-format PyTorch checkpoint (legacy pickle files are not supported; re-save with torch.save in PyTorch ≥ 1.6): {e.GetBaseException().Message}", e);
        }
        var stateDict = table["state_dict"] as IDictionary ?? table;
        var tensors = new Dictionary<string, Tensor>();
        foreach (DictionaryEntry entry in stateDict)
            if (entry.Key is string key && entry.Value is Tensor tensor) tensors[key] = tensor;
        if (tensors.Count == 0) throw new CheckpointFormatException(path, "holds no tensors (neither a state_dict nor a tensor map)");
        return tensors;
    }

    /// <summary>The UNet's tensors under this code's names: the <c>model.diffusion_model.</c> prefix stripped (or the EMA copy
    /// mapped back onto <paramref name="ownNames"/>), plus the cin class embedder as <c>context_emb.weight</c>.</summary>
    public static Dictionary<string, Tensor> ReadUNetStateDict(string path, IEnumerable<string> ownNames, bool ema = false) =>
        UNetStateDict(ReadRaw(path), path, ownNames, ema);

    /// <summary>The mapping of <see cref="ReadUNetStateDict"/> applied to tensors already in memory (<paramref name="path"/> names their source in errors).</summary>
    public static Dictionary<string, Tensor> UNetStateDict(IReadOnlyDictionary<string, Tensor> raw, string path, IEnumerable<string> ownNames, bool ema = false)
    {
        var result = new Dictionary<string, Tensor>();
        if (ema)
        {
            if (!raw.Keys.Any(k => k.StartsWith(EmaPrefix, StringComparison.Ordinal)))
                throw new CheckpointFormatException(path, $"has no EMA weights (no '{EmaPrefix}*' keys); drop --ema to read the model weights");
            foreach (var name in ownNames)
                if (raw.TryGetValue(EmaPrefix + name.Replace(".", ""), out var tensor)) result[name] = tensor;
            // LitEma keeps only parameters; the rest must match a model entry, so report what was not found there.
            foreach (var key in raw.Keys.Where(k => k.StartsWith(EmaPrefix, StringComparison.Ordinal)))
                if (!result.Keys.Any(name => EmaPrefix + name.Replace(".", "") == key)) result[key] = raw[key];
        }
        else if (raw.Keys.Any(k => k.StartsWith(UNetPrefix, StringComparison.Ordinal)))
        {
            foreach (var (key, tensor) in raw.Where(r => r.Key.StartsWith(UNetPrefix, StringComparison.Ordinal)))
                result[key[UNetPrefix.Length..]] = tensor;
        }
        else
        {
            foreach (var (key, tensor) in raw.Where(r => r.Key != ClassEmbedderKey)) result[key] = tensor;
        }
        if (raw.TryGetValue(ClassEmbedderKey, out var classEmbedding)) result[ContextEmbeddingKey] = classEmbedding;
        return result;
    }

    /// <summary>Loads a CompVis checkpoint into <paramref name="model"/>; strict by default.</summary>
    public static void LoadInto(UNetModel model, string path, bool ema = false, bool strict = true)
    {
        var tensors = ReadUNetStateDict(path, model.state_dict().Keys, ema);
        StateDictLoader.Load(model, tensors, path, strict);
    }

    /// <summary>The model's state dict under CompVis names (<c>model.diffusion_model.*</c>, cond_stage_model for the class embedder).</summary>
    public static Dictionary<string, Tensor> ToCompVisNames(UNetModel model) =>
        model.state_dict().ToDictionary(s => s.Key == ContextEmbeddingKey ? ClassEmbedderKey : UNetPrefix + s.Key, s => s.Value);
}
