using SkiaSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Data;

/// <summary>Writes image tensors in [−1, 1] as PNG files: one per image, or one grid. Files appear whole (temp file, then rename).</summary>
public static class ImageFiles
{
    /// <summary>Saves each image of a (B, C, H, W) batch as <c>{prefix}{startIndex + i:D6}.png</c> in <paramref name="folder"/>; returns the paths.</summary>
    public static IReadOnlyList<string> SavePngs(Tensor images, string folder, string prefix = "sample-", int startIndex = 0)
    {
        var (pixels, count, channels, height, width) = HostPixels(images);
        Directory.CreateDirectory(folder);
        var paths = new List<string>(count);
        var length = channels * height * width;
        for (var i = 0; i < count; i++)
        {
            using var bitmap = ImagePixels.FromFloatChw(pixels.AsSpan(i * length, length), channels, height, width);
            var path = Path.Combine(folder, $"{prefix}{startIndex + i:D6}.png");
            WritePng(bitmap, path);
            paths.Add(path);
        }
        return paths;
    }

    /// <summary>Saves a (B, C, H, W) batch as one PNG grid, <paramref name="columns"/> wide (default ⌈√B⌉), with <paramref name="padding"/> black pixels between tiles.</summary>
    public static void SaveGrid(Tensor images, string path, int? columns = null, int padding = 2)
    {
        var (pixels, count, channels, height, width) = HostPixels(images);
        if (columns is < 1) throw new ArgumentOutOfRangeException(nameof(columns), columns, "a grid needs at least one column");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, "padding cannot be negative");
        var cols = columns ?? (int)Math.Ceiling(Math.Sqrt(count));
        var rows = (count + cols - 1) / cols;
        int gridWidth = cols * (width + padding) + padding, gridHeight = rows * (height + padding) + padding;
        var canvas = new float[channels * gridHeight * gridWidth];
        Array.Fill(canvas, -1f);   // black between tiles
        for (var i = 0; i < count; i++)
        {
            int left = padding + i % cols * (width + padding), top = padding + i / cols * (height + padding);
            for (var c = 0; c < channels; c++)
            for (var y = 0; y < height; y++)
                pixels.AsSpan(((i * channels + c) * height + y) * width, width)
                    .CopyTo(canvas.AsSpan((c * gridHeight + top + y) * gridWidth + left, width));
        }
        using var grid = ImagePixels.FromFloatChw(canvas, channels, gridHeight, gridWidth);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        WritePng(grid, path);
    }

    static (float[] Pixels, int Count, int Channels, int Height, int Width) HostPixels(Tensor images)
    {
        if (images.dim() != 4) throw new ArgumentException($"expected a (B, C, H, W) batch, got shape [{string.Join(", ", images.shape)}]", nameof(images));
        using var host = images.detach().to(ScalarType.Float32).cpu().contiguous();
        return (host.data<float>().ToArray(), (int)images.shape[0], (int)images.shape[1], (int)images.shape[2], (int)images.shape[3]);
    }

    static void WritePng(SKBitmap bitmap, string path)
    {
        var temporary = path + ".tmp";
        using (var data = bitmap.Encode(SKEncodedImageFormat.Png, 100))
        using (var stream = File.Create(temporary))
            data.SaveTo(stream);
        File.Move(temporary, path, overwrite: true);
    }
}
