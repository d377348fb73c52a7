using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Data;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>The dataset a <see cref="DatasetSpec"/> names, at the model's image size (with caption embeddings for text models).</summary>
public static class DatasetFactory
{
    /// <param name="textContextDim">the context_dim of a text-conditional model: the image folder must pair every image with an (L, D) caption embedding.</param>
    public static IImageDataset Create(DatasetSpec spec, int imageSize, int classes, Serilog.ILogger? log = null, int? textContextDim = null)
    {
        var size = spec.ImageSize > 0 ? spec.ImageSize : imageSize;
        if (size != imageSize)
            throw new ArgumentException($"dataset.image_size {spec.ImageSize} does not match the model's image size {imageSize}");
        return spec.SourceCase switch
        {
            DatasetSpec.SourceOneofCase.ImageFolder when textContextDim is int width => new CaptionedImageDataset(ImageFolder(spec, size, log),
                spec.ImageFolder.CaptionEmbeddings.Length > 0 ? spec.ImageFolder.CaptionEmbeddings
                    : throw new ArgumentException($"dataset.image_folder.caption_embeddings: the model is text-conditional (context_dim {width}); name the folder of caption embeddings paired with the images"),
                width),
            _ when textContextDim is int width => throw new ArgumentException(
                $"dataset: the model is text-conditional (context_dim {width}); use an image_folder with caption_embeddings (a procedural dataset has no captions)"),
            DatasetSpec.SourceOneofCase.Procedural => new ProceduralTextureDataset(
                spec.Procedural.Count, size, (int)spec.Procedural.Seed, Math.Max(1, classes)),
            DatasetSpec.SourceOneofCase.ImageFolder => RequireClasses(ImageFolder(spec, size, log), classes),
            _ => throw new ArgumentException("dataset: set either procedural or image_folder"),
        };
    }

    static Data.ImageFolderDataset ImageFolder(DatasetSpec spec, int size, Serilog.ILogger? log) =>
        new(spec.ImageFolder.Path, size, spec.ImageFolder.FailOnCorrupt ? CorruptFilePolicy.Fail : CorruptFilePolicy.Skip, log);

    /// <summary>A class-conditional model takes at most as many class sub-folders as its class embedder has classes.</summary>
    static IImageDataset RequireClasses(Data.ImageFolderDataset dataset, int classes) =>
        classes > 0 && dataset.ClassNames.Count > classes
            ? throw new ArgumentException($"dataset.image_folder.path: '{dataset.Root}' has {dataset.ClassNames.Count} class sub-folders but the model's class embedder has {classes} classes (labels 0..{classes - 1})")
            : dataset;
}
