using SkiaSharp;

namespace SpectralDiffusion.Worker.Data;

/// <summary>Conversions between 8-bit RGB bitmaps and the float CHW [−1, 1] layout the models use.</summary>
public static class ImagePixels
{
    /// <summary>Writes an RGBA8888 bitmap's RGB into <paramref name="pixels"/> as CHW floats, v/127.5 − 1.</summary>
    public static void ToFloatChw(SKBitmap bitmap, Span<float> pixels)
    {
        if (bitmap.ColorType != SKColorType.Rgba8888) throw new ArgumentException($"expected an RGBA8888 bitmap, got {bitmap.ColorType}", nameof(bitmap));
        var plane = bitmap.Width * bitmap.Height;
        if (pixels.Length != 3 * plane) throw new ArgumentException($"destination holds {pixels.Length} floats, the image needs {3 * plane}", nameof(pixels));
        var bytes = bitmap.GetPixelSpan();
        var rowBytes = bitmap.RowBytes;
        for (var y = 0; y < bitmap.Height; y++)
        for (var x = 0; x < bitmap.Width; x++)
        {
            var source = y * rowBytes + 4 * x;
            var target = y * bitmap.Width + x;
            for (var c = 0; c < 3; c++) pixels[c * plane + target] = bytes[source + c] / 127.5f - 1f;
        }
    }

    /// <summary>An RGBA8888 bitmap from CHW floats in [−1, 1] (1 or 3 channels), rounded to the nearest 8-bit value.</summary>
    public static SKBitmap FromFloatChw(ReadOnlySpan<float> pixels, int channels, int height, int width)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"images need 1 or 3 channels, got {channels}", nameof(channels));
        var plane = height * width;
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var bytes = bitmap.GetPixelSpan();
        for (var i = 0; i < plane; i++)
        {
            var y = i / width;
            var offset = y * bitmap.RowBytes + 4 * (i % width);
            for (var c = 0; c < 3; c++) bytes[offset + c] = ToByte(pixels[(channels == 1 ? 0 : c) * plane + i]);
            bytes[offset + 3] = 255;
        }
        return bitmap;
    }

    /// <summary>Mirrors a CHW image left to right, in place.</summary>
    public static void FlipHorizontally(Span<float> pixels, ImageShape shape)
    {
        for (var row = 0; row < shape.Channels * shape.Height; row++) pixels.Slice(row * shape.Width, shape.Width).Reverse();
    }

    static byte ToByte(float value) => (byte)Math.Clamp(MathF.Round((value + 1f) * 127.5f), 0f, 255f);
}
