using SpectralDiffusion.Worker.Models;

namespace SpectralDiffusion.Worker.Data;

/// <summary>A dataset whose every image comes with a caption embedding (L, D), for text-conditional models.</summary>
public interface ICaptionedDataset : IImageDataset
{
    /// <summary>Rows L of every caption embedding.</summary>
    int ContextTokens { get; }

    /// <summary>Width D of every caption embedding (the preset's context_dim).</summary>
    int ContextDim { get; }

    /// <summary>Writes item <paramref name="index"/>'s caption embedding (row-major L·D floats) into <paramref name="context"/>.</summary>
    void ReadContext(int index, Span<float> context);
}

/// <summary>
/// An image folder paired with a folder of caption embeddings that mirrors it: the image <c>cats/001.png</c> pairs with
/// <c>cats/001.safetensors</c> under the caption folder, one (L, D) tensor from the user's own text encoder
/// (docs/text-conditioning.md). Every image needs its embedding and every embedding its image; all share one (L, D).
/// </summary>
public sealed class CaptionedImageDataset : ICaptionedDataset
{
    const string Field = "dataset.image_folder.caption_embeddings";
    readonly ImageFolderDataset images;
    readonly string[] captionFiles;

    public CaptionedImageDataset(ImageFolderDataset images, string captionsRoot, long contextDim)
    {
        if (!Directory.Exists(captionsRoot)) throw new DirectoryNotFoundException($"{Field}: caption folder '{captionsRoot}' does not exist");
        this.images = images;
        captionFiles = Enumerable.Range(0, images.Count).Select(i => CaptionPathFor(images.PathOf(i), images.Root, captionsRoot)).ToArray();
        var missing = captionFiles.Select((path, i) => (path, i)).FirstOrDefault(c => !File.Exists(c.path));
        if (missing.path is not null)
            throw new InvalidDataException($"{Field}: image '{images.PathOf(missing.i)}' has no caption embedding: expected '{missing.path}' " +
                                           $"({captionFiles.Count(f => !File.Exists(f))} of {images.Count} images are unpaired)");
        var paired = captionFiles.Select(Path.GetFullPath).ToHashSet(StringComparer.Ordinal);
        var orphan = Directory.EnumerateFiles(captionsRoot, "*.safetensors", SearchOption.AllDirectories)
            .FirstOrDefault(f => !paired.Contains(Path.GetFullPath(f)));
        if (orphan is not null)
            throw new InvalidDataException($"{Field}: caption embedding '{orphan}' has no image in '{images.Root}' (expected an image at the same relative path); " +
                                           "every embedding must pair with exactly one image");
        using var first = ContextFile.Read(captionFiles[0], Field, contextDim, allowBatch: false);
        (ContextTokens, ContextDim) = ((int)first.shape[0], (int)first.shape[1]);
    }

    public int Count => images.Count;
    public ImageShape Shape => images.Shape;
    public IReadOnlyList<string> ClassNames => images.ClassNames;
    public int ContextTokens { get; }
    public int ContextDim { get; }

    public int Read(int index, Span<float> pixels) => images.Read(index, pixels);

    public void ReadContext(int index, Span<float> context)
    {
        using var tensor = ContextFile.Read(captionFiles[index], Field, ContextDim, allowBatch: false);
        if (tensor.shape[0] != ContextTokens)
            throw new InvalidDataException($"{Field}: '{captionFiles[index]}' holds ({string.Join(", ", tensor.shape)}) but the dataset's embeddings are ({ContextTokens}, {ContextDim}); " +
                                           "every caption must be padded to the same L");
        tensor.data<float>().ToArray().AsSpan().CopyTo(context);
    }

    static string CaptionPathFor(string imagePath, string imagesRoot, string captionsRoot)
    {
        var relative = Path.GetRelativePath(imagesRoot, imagePath);
        return Path.Combine(captionsRoot, Path.ChangeExtension(relative, ".safetensors"));
    }
}
