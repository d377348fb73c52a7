using SkiaSharp;
using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Data;

public class ImageFilesTests
{
    [Fact]
    public void SaveGrid_FiveImages_LaysOutThreeByTwoTilesWithPadding()
    {
        // Arrange: image i is a flat grey level.
        TorchRuntime.EnsureLoaded();
        using var folder = new TemporaryFolder();
        var images = stack(Enumerable.Range(0, 5).Select(i => full([3, 4, 4], -0.5 + 0.25 * i)).ToArray());
        var path = folder.Combine("grid.png");

        // Act
        ImageFiles.SaveGrid(images, path, padding: 1);

        // Assert
        using var grid = SKBitmap.Decode(path);
        Assert.Equal(3 * 5 + 1, grid.Width);
        Assert.Equal(2 * 5 + 1, grid.Height);
        Assert.Equal(SKColors.Black, grid.GetPixel(0, 0));
        Assert.Equal((byte)Math.Round((0 + 1) * 127.5), grid.GetPixel(1 + 2 * 5, 1).Red);     // image 2 → −0.5 + 0.5 = 0
        Assert.Equal((byte)Math.Round((0.5 + 1) * 127.5), grid.GetPixel(1 + 5, 1 + 5).Green);  // image 4 → 0.5
        Assert.False(File.Exists(path + ".tmp"));
    }
}
