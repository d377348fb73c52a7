using Serilog;
using SkiaSharp;

namespace SpectralDiffusion.Worker.Data;

/// <summary>What to do with a file that has an image extension but cannot be decoded.</summary>
public enum CorruptFilePolicy
{
    /// <summary>Leave it out, log a warning and count it in <see cref="ImageFolderDataset.SkippedFiles"/>.</summary>
    Skip,
    /// <summary>Stop with an error that names the file.</summary>
    Fail,
}

/// <summary>
/// PNG and JPEG images under a folder, decoded with SkiaSharp, converted to RGB, resized so the shorter side is
/// <c>imageSize</c> and centre-cropped to a square. Class labels come from sub-folder names (sorted, ordinal);
/// a folder without sub-folders is one unlabelled class. With no <c>imageSize</c> images keep their size, which must then agree.
/// </summary>
public sealed class ImageFolderDataset : IImageDataset
{
    static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];
    readonly (string Path, int Label)[] files;
    readonly List<(string Path, string Reason)> skipped = [];

    public ImageFolderDataset(string root, int? imageSize = null, CorruptFilePolicy corruptFiles = CorruptFilePolicy.Skip, ILogger? logger = null)
    {
        if (imageSize is < 1) throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, "image size must be at least 1 pixel");
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"image folder '{root}' does not exist");
        Root = root;
        logger ??= Log.Logger;
        var classFolders = Directory.GetDirectories(root).Where(d => ImagesUnder(d).Any()).Order(StringComparer.Ordinal).ToArray();
        var topLevel = Directory.GetFiles(root).Where(IsImageFile).ToArray();
        if (classFolders.Length > 0 && topLevel.Length > 0)
            throw new InvalidDataException($"image folder '{root}' holds both images ({Path.GetFileName(topLevel[0])}, …) and class sub-folders; " +
                                           "put every image in a class sub-folder, or use a folder without sub-folders");
        ClassNames = classFolders.Length > 0 ? classFolders.Select(folder => Path.GetFileName(folder)).ToArray() : [""];
        var candidates = classFolders.Length > 0
            ? classFolders.SelectMany((folder, label) => ImagesUnder(folder).Order(StringComparer.Ordinal).Select(path => (path, label)))
            : topLevel.Order(StringComparer.Ordinal).Select(path => (path, label: 0));

        var accepted = new List<(string, int)>();
        SKSizeI? nativeSize = null;
        foreach (var (path, label) in candidates)
        {
            var size = ProbeSize(path, out var reason);
            if (size is null)
            {
                if (corruptFiles == CorruptFilePolicy.Fail)
                    throw new InvalidDataException($"cannot decode image '{path}': {reason} (corrupt files are skipped unless failing on them was requested)");
                skipped.Add((path, reason));
                logger.Warning("Skipping corrupt image {Path}: {Reason}", path, reason);
                continue;
            }
            if (imageSize is null && nativeSize is { } first && first != size)
                throw new InvalidDataException($"image '{path}' is {size.Value.Width}x{size.Value.Height} but earlier images are {first.Width}x{first.Height}; " +
                                               "give an image size to resize and centre-crop them");
            nativeSize ??= size;
            accepted.Add((path, label));
        }
        if (accepted.Count == 0)
            throw new InvalidDataException(skipped.Count > 0
                ? $"image folder '{root}' has no readable images: all {skipped.Count} image files are corrupt (first: {skipped[0].Path}: {skipped[0].Reason})"
                : $"image folder '{root}' has no images (looked for {string.Join(", ", Extensions)} in it and its sub-folders)");
        files = accepted.ToArray();
        if (skipped.Count > 0) logger.Warning("Skipped {Count} corrupt images under {Root}", skipped.Count, root);
        Shape = imageSize is { } side ? new ImageShape(3, side, side) : new ImageShape(3, nativeSize!.Value.Height, nativeSize.Value.Width);
    }

    public string Root { get; }
    public int Count => files.Length;
    public ImageShape Shape { get; }
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Files that were left out because they could not be decoded, with the reason.</summary>
    public IReadOnlyList<(string Path, string Reason)> SkippedFiles => skipped;

    /// <summary>The file behind item <paramref name="index"/>.</summary>
    public string PathOf(int index) => files[index].Path;

    public int Read(int index, Span<float> pixels)
    {
        var (path, label) = files[index];
        using var decoded = DecodeWhole(path);
        using var square = ResizeAndCenterCrop(decoded, Shape.Width, Shape.Height);
        ImagePixels.ToFloatChw(square, pixels);
        return label;
    }

    /// <summary>Scales so the shorter side fits, then keeps the centre: drawing the centred source square (or rectangle) into the target.</summary>
    static SKBitmap ResizeAndCenterCrop(SKBitmap source, int width, int height)
    {
        var target = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var scale = Math.Max((double)width / source.Width, (double)height / source.Height);
        var cropWidth = width / scale;
        var cropHeight = height / scale;
        var sourceRect = SKRect.Create((float)((source.Width - cropWidth) / 2), (float)((source.Height - cropHeight) / 2), (float)cropWidth, (float)cropHeight);
        using var canvas = new SKCanvas(target);
        canvas.Clear(SKColors.Black);
        using var image = SKImage.FromBitmap(source);
        using var paint = new SKPaint();
        canvas.DrawImage(image, sourceRect, SKRect.Create(width, height), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear), paint);
        return target;
    }

    /// <summary>Decodes every pixel; a file that ends early is an error, not a partly grey image.</summary>
    static SKBitmap DecodeWhole(string path)
    {
        using var codec = SKCodec.Create(path, out var opened)
                          ?? throw new InvalidDataException($"cannot decode image '{path}' ({opened}; it was readable when the folder was scanned)");
        var info = codec.Info.WithColorType(SKColorType.Rgba8888).WithAlphaType(SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result == SKCodecResult.Success) return bitmap;
        bitmap.Dispose();
        throw new InvalidDataException($"cannot decode image '{path}': {result} (truncated or corrupt); remove it, or leave dataset.fail_on_corrupt off to skip such files when the folder is scanned");
    }

    static SKSizeI? ProbeSize(string path, out string reason)
    {
        reason = "";
        try
        {
            using var codec = SKCodec.Create(path, out var result);
            if (codec is null) { reason = $"not a decodable PNG/JPEG ({result})"; return null; }
            var info = codec.Info;
            if (info.Width < 1 || info.Height < 1) { reason = "zero-sized image"; return null; }
            if (TruncationReason(path, codec.EncodedFormat) is { } truncated) { reason = truncated; return null; }
            return new SKSizeI(info.Width, info.Height);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reason = e.Message;
            return null;
        }
    }

    /// <summary>
    /// A cheap check of the file's end (its header alone decodes fine when the body is cut off): a PNG ends with its
    /// IEND chunk, a JPEG with an end-of-image marker (some cameras append data after it, so the last 4 KB are searched).
    /// </summary>
    static string? TruncationReason(string path, SKEncodedImageFormat format)
    {
        using var stream = File.OpenRead(path);
        var tail = new byte[(int)Math.Min(stream.Length, 4096)];
        stream.Seek(-tail.Length, SeekOrigin.End);
        stream.ReadExactly(tail);
        return format switch
        {
            SKEncodedImageFormat.Png when !tail.AsSpan().EndsWith(PngEnd) => "truncated PNG: the file does not end with its IEND chunk",
            SKEncodedImageFormat.Jpeg when tail.AsSpan().IndexOf(JpegEnd) < 0 => "truncated JPEG: no end-of-image marker (FF D9) at the end of the file",
            _ => null,
        };
    }

    static readonly byte[] PngEnd = [0, 0, 0, 0, (byte)'I', (byte)'E', (byte)'N', (byte)'D', 0xAE, 0x42, 0x60, 0x82];
    static readonly byte[] JpegEnd = [0xFF, 0xD9];

    static IEnumerable<string> ImagesUnder(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Where(IsImageFile);

    static bool IsImageFile(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());
}
