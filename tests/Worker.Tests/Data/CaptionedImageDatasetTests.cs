using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Data;

public class CaptionedImageDatasetTests
{
    public CaptionedImageDatasetTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void ReadContext_PairedFolders_ReturnsEachImagesOwnEmbedding()
    {
        using var folder = new TemporaryFolder();
        var (images, captions) = CaptionedFolder.Write(folder.Path, count: 3, size: 8, tokens: 4, width: 6);
        var images_ = new ImageFolderDataset(images, 8);
        var expected = ContextFile.Read(Path.Combine(captions, Path.ChangeExtension(Path.GetFileName(images_.PathOf(2)), ".safetensors")), "test", 6);

        var dataset = new CaptionedImageDataset(images_, captions, contextDim: 6);
        var context = new float[4 * 6];
        dataset.ReadContext(2, context);

        Assert.Equal((4, 6), (dataset.ContextTokens, dataset.ContextDim));
        Assert.Equal(expected.data<float>().ToArray(), context);
    }

    [Fact]
    public void Constructor_ImageWithoutEmbedding_ThrowsNamingTheImageAndTheField()
    {
        using var folder = new TemporaryFolder();
        var (images, captions) = CaptionedFolder.Write(folder.Path, count: 3, size: 8, tokens: 4, width: 6);
        var missing = Directory.GetFiles(captions).Order().First();
        File.Delete(missing);

        var error = Assert.Throws<InvalidDataException>(() => new CaptionedImageDataset(new ImageFolderDataset(images, 8), captions, 6));

        Assert.Contains("dataset.image_folder.caption_embeddings", error.Message);
        Assert.Contains(Path.GetFileNameWithoutExtension(missing) + ".png", error.Message);
    }

    [Fact]
    public void Constructor_EmbeddingWithoutImage_ThrowsNamingTheEmbedding()
    {
        using var folder = new TemporaryFolder();
        var (images, captions) = CaptionedFolder.Write(folder.Path, count: 2, size: 8, tokens: 4, width: 6);
        ContextFile.Write(Path.Combine(captions, "stray.safetensors"), zeros(4, 6));

        var error = Assert.Throws<InvalidDataException>(() => new CaptionedImageDataset(new ImageFolderDataset(images, 8), captions, 6));

        Assert.Contains("stray.safetensors", error.Message);
        Assert.Contains("has no image", error.Message);
    }

    [Fact]
    public void Constructor_EmbeddingOfWrongWidth_ThrowsNamingContextDim()
    {
        using var folder = new TemporaryFolder();
        var (images, captions) = CaptionedFolder.Write(folder.Path, count: 2, size: 8, tokens: 4, width: 6);

        var error = Assert.Throws<InvalidDataException>(() => new CaptionedImageDataset(new ImageFolderDataset(images, 8), captions, contextDim: 8));

        Assert.Contains("D = 6 does not match the preset's context_dim 8", error.Message);
    }

    [Fact]
    public void Read_EmbeddingWithZeroTokens_ThrowsNamingL()
    {
        using var folder = new TemporaryFolder();
        var path = folder.Combine("empty.safetensors");
        ContextFile.Write(path, zeros(0, 6));

        var error = Assert.Throws<InvalidDataException>(() => ContextFile.Read(path, "--context", 6));

        Assert.Contains("--context", error.Message);
        Assert.Contains("L = 0", error.Message);
    }
}
