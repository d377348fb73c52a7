using System.Collections;
using SpectralDiffusion.Worker.Models;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Evaluation;

/// <summary>
/// Loads the FID Inception weights from a user-supplied file: a zip-format PyTorch <c>.pth</c> or a <c>.safetensors</c> file
/// holding torchvision's Inception3 keys. Strict: every key must be present with its shape, and no key may be extra
/// (BatchNorm's <c>num_batches_tracked</c> counters may be absent; they do not affect inference). Nothing is downloaded.
/// </summary>
public static class InceptionWeights
{
    public const string DocumentationPath = "docs/fid-weights.md";

    /// <summary>The message for a missing weights file: how to obtain and convert them.</summary>
    public static string HowToObtain =>
        "FID needs the pytorch-fid Inception weights (pt_inception-2015-12-05-6726825d.pth), supplied with --inception-weights FILE; " +
        $"nothing is downloaded. {DocumentationPath} says where to get them and how to convert them to zip .pth or safetensors.";

    public static FidInceptionV3 Load(string path, int inputSize = 299)
    {
        var model = new FidInceptionV3(inputSize);
        LoadInto(model, path);
        return model;
    }

    public static void LoadInto(FidInceptionV3 model, string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Inception weights file '{path}' does not exist. {HowToObtain}", path);
        var weights = ReadStateDict(path);
        var expected = model.state_dict();
        var missing = expected.Keys.Where(k => !weights.ContainsKey(k) && !k.EndsWith(".num_batches_tracked", StringComparison.Ordinal)).ToList();
        var unexpected = weights.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        var wrongShape = weights.Where(kv => expected.TryGetValue(kv.Key, out var target) && !target.shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key} [{string.Join(", ", kv.Value.shape)}] where the model has [{string.Join(", ", expected[kv.Key].shape)}]").ToList();
        if (missing.Count + unexpected.Count + wrongShape.Count > 0)
            throw new InvalidDataException($"Inception weights '{path}' do not match the FID Inception V3 (torchvision key names): " +
                                           Describe("missing", missing) + Describe("unexpected", unexpected) + Describe("wrong shape", wrongShape) +
                                           $"See {DocumentationPath}.");
        FiniteWeights.Require($"Inception weights '{path}'", weights);
        using (no_grad())
            foreach (var (key, value) in weights)
                expected[key].copy_(value.to(expected[key].dtype));
        foreach (var value in weights.Values) value.Dispose();
    }

    static Dictionary<string, Tensor> ReadStateDict(string path)
    {
        var header = new byte[8];
        using (var stream = File.OpenRead(path)) stream.ReadExactly(header, 0, Math.Min(8, (int)stream.Length));
        try
        {
            if (header[0] == (byte)'P' && header[1] == (byte)'K')
            {
                var table = PyTorchUnpickler.UnpickleStateDict(path);
                return table.Cast<DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (Tensor)e.Value!);
            }
            if (header[0] == 0x80)
                throw new InvalidDataException($"Inception weights '{path}' are a legacy (pre-zip) PyTorch pickle, which cannot be read here. " +
                                               $"Re-save them in zip format or as safetensors as {DocumentationPath} shows.");
            return Safetensors.LoadStateDict(path);
        }
        catch (Exception e) when (e is not InvalidDataException)
        {
            throw new InvalidDataException($"cannot read Inception weights '{path}' as a zip .pth or safetensors file: {e.Message}. See {DocumentationPath}.", e);
        }
    }

    static string Describe(string what, List<string> keys) =>
        keys.Count == 0 ? "" : $"{keys.Count} {what} ({string.Join(", ", keys.Take(5))}{(keys.Count > 5 ? ", …" : "")}). ";
}
