using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Models;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.TestSupport;

/// <summary>A small text-to-image dataset on disk: procedural PNGs under images/ and one random (L, D) caption embedding
/// per image under captions/, at the same relative path (the layout of docs/text-conditioning.md).</summary>
public static class CaptionedFolder
{
    public static (string Images, string Captions) Write(string root, int count, int size, int tokens, int width, int seed = 1)
    {
        var images = Path.Combine(root, "images");
        var captions = Path.Combine(root, "captions");
        var paths = ImageFiles.SavePngs(new ProceduralTextureDataset(count, size, seed).GetRange(0, count), images);
        using var generator = new Generator((ulong)seed);
        Directory.CreateDirectory(captions);
        foreach (var path in paths)
            ContextFile.Write(Path.Combine(captions, Path.GetFileNameWithoutExtension(path) + ".safetensors"), randn([tokens, width], generator: generator));
        return (images, captions);
    }
}
