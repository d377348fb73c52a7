using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Data;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>The dataset a <see cref="DatasetSpec"/> names, at the model's image size.</summary>
public static class DatasetFactory
{
    public static IImageDataset Create(DatasetSpec spec, int imageSize, int classes, Serilog.ILogger? log = null)
    {
        var size = spec.ImageSize > 0 ? spec.ImageSize : imageSize;
        if (size != imageSize)
            throw new ArgumentException($"dataset.image_size {spec.ImageSize} does not match the model's image size {imageSize}");
        return spec.SourceCase switch
        {
            DatasetSpec.SourceOneofCase.Procedural => new ProceduralTextureDataset(
                spec.Procedural.Count, size, (int)spec.Procedural.Seed, Math.Max(1, classes)),
            DatasetSpec.SourceOneofCase.ImageFolder => new Data.ImageFolderDataset(
                spec.ImageFolder.Path, size, spec.ImageFolder.FailOnCorrupt ? CorruptFilePolicy.Fail : CorruptFilePolicy.Skip, log),
            _ => throw new ArgumentException("dataset: set either procedural or image_folder"),
        };
    }
}
