using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Data;

/// <summary>The shape of every image a dataset yields, channels first.</summary>
public readonly record struct ImageShape(int Channels, int Height, int Width)
{
    public int Length => Channels * Height * Width;
    public override string ToString() => $"{Channels}x{Height}x{Width}";
}

/// <summary>
/// A finite, indexable set of images with class labels. Pixels are float CHW in [−1, 1].
/// <see cref="Read"/> must be safe to call from a background thread (the prefetching loader does).
/// </summary>
public interface IImageDataset
{
    int Count { get; }
    ImageShape Shape { get; }

    /// <summary>Class names in label order; one entry for an unlabelled dataset.</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>Writes item <paramref name="index"/> into <paramref name="pixels"/> (length <see cref="ImageShape.Length"/>) and returns its class label.</summary>
    int Read(int index, Span<float> pixels);
}

public static class ImageDatasetExtensions
{
    /// <summary>Item <paramref name="index"/> as a (C, H, W) float32 tensor in [−1, 1] and its label.</summary>
    public static (Tensor Image, int Label) Get(this IImageDataset dataset, int index)
    {
        var pixels = new float[dataset.Shape.Length];
        var label = dataset.Read(index, pixels);
        return (tensor(pixels, [dataset.Shape.Channels, dataset.Shape.Height, dataset.Shape.Width]), label);
    }

    /// <summary>Items [start, start + count) as one (B, C, H, W) tensor, for evaluation passes over a whole dataset.</summary>
    public static Tensor GetRange(this IImageDataset dataset, int start, int count)
    {
        if (start < 0 || count < 1 || start + count > dataset.Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"items [{start}, {start + count}) are outside the dataset's {dataset.Count}");
        var shape = dataset.Shape;
        var pixels = new float[count * shape.Length];
        for (var i = 0; i < count; i++) dataset.Read(start + i, pixels.AsSpan(i * shape.Length, shape.Length));
        return tensor(pixels, [count, shape.Channels, shape.Height, shape.Width]);
    }
}
