using SkiaSharp;
using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Data;

public class ImageFolderDatasetTests
{
    public ImageFolderDatasetTests() => TorchRuntime.EnsureLoaded();

    static Tensor RandomImages(int count, int size, int seed) =>
        rand([count, 3, size, size], generator: new TorchSharp.torch.Generator((ulong)seed)) * 2 - 1;

    [Fact]
    public void Constructor_ClassSubFoldersAndCorruptFile_LabelsFromFoldersAndSkipsCorrupt()
    {
        // Arrange
        using var folder = new TemporaryFolder();
        ImageFiles.SavePngs(RandomImages(2, 8, 1), folder.Combine("dogs"));
        ImageFiles.SavePngs(RandomImages(3, 8, 2), folder.Combine("cats"));
        File.WriteAllBytes(folder.Combine("cats", "broken.png"), [1, 2, 3, 4, 5, 6, 7, 8]);

        // Act
        var dataset = new ImageFolderDataset(folder.Path, imageSize: 8);

        // Assert
        Assert.Equal(["cats", "dogs"], dataset.ClassNames);
        Assert.Equal(5, dataset.Count);
        Assert.Single(dataset.SkippedFiles);
        Assert.EndsWith("broken.png", dataset.SkippedFiles[0].Path);
        var labels = Enumerable.Range(0, dataset.Count).Select(i => dataset.Get(i).Label).ToArray();
        Assert.Equal([0, 0, 0, 1, 1], labels);
    }

    [Fact]
    public void Constructor_CorruptFileWithFailPolicy_ThrowsNamingFile()
    {
        using var folder = new TemporaryFolder();
        ImageFiles.SavePngs(RandomImages(1, 8, 1), folder.Path);
        File.WriteAllBytes(folder.Combine("broken.jpg"), [0xFF, 0xD8, 0, 0]);

        var error = Assert.Throws<InvalidDataException>(() => new ImageFolderDataset(folder.Path, corruptFiles: CorruptFilePolicy.Fail));

        Assert.Contains("broken.jpg", error.Message);
    }

    [Theory]
    [InlineData(CorruptFilePolicy.Fail)]
    [InlineData(CorruptFilePolicy.Skip)]
    public void Constructor_TruncatedPng_FailsOrSkipsNamingFile(CorruptFilePolicy policy)
    {
        using var folder = new TemporaryFolder();
        var whole = ImageFiles.SavePngs(RandomImages(2, 16, 3), folder.Path);
        var bytes = File.ReadAllBytes(whole[1]);
        File.WriteAllBytes(whole[1], bytes[..(bytes.Length * 2 / 3)]);   // the header still decodes; the pixels do not

        if (policy == CorruptFilePolicy.Fail)
        {
            var error = Assert.Throws<InvalidDataException>(() => new ImageFolderDataset(folder.Path, corruptFiles: policy));
            Assert.Contains(Path.GetFileName(whole[1]), error.Message);
            Assert.Contains("truncated", error.Message);
            return;
        }
        var dataset = new ImageFolderDataset(folder.Path, corruptFiles: policy);
        Assert.Equal(1, dataset.Count);
        Assert.Equal(whole[1], Assert.Single(dataset.SkippedFiles).Path);
    }

    [Fact]
    public void Read_FileTruncatedAfterScan_ThrowsNamingFile()
    {
        using var folder = new TemporaryFolder();
        var whole = ImageFiles.SavePngs(RandomImages(1, 16, 4), folder.Path);
        var dataset = new ImageFolderDataset(folder.Path);
        var bytes = File.ReadAllBytes(whole[0]);
        File.WriteAllBytes(whole[0], bytes[..(bytes.Length / 2)]);

        var error = Assert.Throws<InvalidDataException>(() => dataset.Read(0, new float[3 * 16 * 16]));

        Assert.Contains(Path.GetFileName(whole[0]), error.Message);
    }

    [Fact]
    public void Constructor_EmptyFolder_ThrowsNamingFolder()
    {
        using var folder = new TemporaryFolder();
        File.WriteAllText(folder.Combine("notes.txt"), "not an image");

        var error = Assert.Throws<InvalidDataException>(() => new ImageFolderDataset(folder.Path));

        Assert.Contains(folder.Path, error.Message);
        Assert.Contains("no images", error.Message);
    }

    [Fact]
    public void Read_NativeSizePng_RoundTripsWithinQuantisation()
    {
        // Arrange
        using var folder = new TemporaryFolder();
        var images = RandomImages(2, 6, 3);
        ImageFiles.SavePngs(images, folder.Path);

        // Act
        var dataset = new ImageFolderDataset(folder.Path);
        var read = dataset.GetRange(0, 2);

        // Assert
        Assert.Equal(new ImageShape(3, 6, 6), dataset.Shape);
        Assert.True((read - images).abs().max().item<float>() <= 1.0f / 127.5f + 1e-6f);
    }

    [Fact]
    public void Read_WideImage_ResizesShorterSideAndKeepsCentre()
    {
        // Arrange: 12x4, red | green | blue thirds; the centre 4x4 square is the green third.
        using var folder = new TemporaryFolder();
        using (var bitmap = new SKBitmap(12, 4))
        {
            for (var x = 0; x < 12; x++)
            for (var y = 0; y < 4; y++)
                bitmap.SetPixel(x, y, x < 4 ? SKColors.Red : x < 8 ? SKColors.Lime : SKColors.Blue);
            using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 100);
            File.WriteAllBytes(folder.Combine("wide.jpg"), data.ToArray());
        }

        // Act
        var (image, _) = new ImageFolderDataset(folder.Path, imageSize: 2).Get(0);

        // Assert: green high, red and blue low (JPEG blurs colour edges a little).
        Assert.True(image[1].min().item<float>() > 0.8f, image.ToString(TorchSharp.TensorStringStyle.Julia));
        Assert.True(image[0].max().item<float>() < -0.6f);
        Assert.True(image[2].max().item<float>() < -0.6f);
    }
}
