using System.Numerics;

namespace SpectralDiffusion.Worker.Data;

/// <summary>
/// Deterministic synthetic RGB textures that need no download: a power-law (1/f^a) noise field in colour, sharp-edged
/// half-planes and disks, and sinusoidal gratings up to near the Nyquist frequency. Item i depends only on (seed, i),
/// so every rank and every resumed run sees the same images. With several classes, the class sets the palette and the
/// grating orientation, so class-conditional models have something to learn.
/// </summary>
public sealed class ProceduralTextureDataset : IImageDataset
{
    public ProceduralTextureDataset(int count, int imageSize, int seed, int classes = 1)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "a dataset needs at least one image");
        if (imageSize < 4) throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, "procedural images need at least 4 pixels a side");
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "need at least one class");
        Count = count;
        Seed = seed;
        Shape = new ImageShape(3, imageSize, imageSize);
        ClassNames = classes == 1 ? ["texture"] : Enumerable.Range(0, classes).Select(c => $"texture-{c}").ToArray();
    }

    public int Count { get; }
    public int Seed { get; }
    public ImageShape Shape { get; }
    public IReadOnlyList<string> ClassNames { get; }

    public int Read(int index, Span<float> pixels)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"the dataset has {Count} images");
        if (pixels.Length != Shape.Length) throw new ArgumentException($"destination holds {pixels.Length} floats, an image needs {Shape.Length}", nameof(pixels));
        var label = index % ClassNames.Count;
        var random = SeedMixer.Random(Seed, index);
        var size = Shape.Height;
        var plane = size * size;
        var image = new double[3, size, size];
        var classAngle = Math.PI * label / ClassNames.Count;

        // Base colour and a colour-mixing of three power-law fields (luminance steeper-or-flatter per image).
        var baseColour = ClassColour(label, random);
        var luminance = PowerLawField(size, exponent: 0.8 + 0.6 * random.NextDouble(), random);
        var chromaA = PowerLawField(size, exponent: 1.3 + 0.4 * random.NextDouble(), random);
        var chromaB = PowerLawField(size, exponent: 1.3 + 0.4 * random.NextDouble(), random);
        var luminanceGain = 0.25 + 0.2 * random.NextDouble();
        for (var c = 0; c < 3; c++)
        {
            double chromaGainA = 0.12 * Gaussian(random), chromaGainB = 0.12 * Gaussian(random);
            for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
                image[c, y, x] = baseColour[c] + luminanceGain * luminance[y, x] + chromaGainA * chromaA[y, x] + chromaGainB * chromaB[y, x];
        }

        // Sharp edges: half-planes and disks with their own colour shift.
        var shapes = 2 + random.Next(4);
        for (var s = 0; s < shapes; s++)
        {
            var shift = new[] { 0.35 * Gaussian(random), 0.35 * Gaussian(random), 0.35 * Gaussian(random) };
            var isDisk = random.NextDouble() < 0.5;
            double cx = size * random.NextDouble(), cy = size * random.NextDouble();
            var radius = size * (0.1 + 0.3 * random.NextDouble());
            var angle = 2 * Math.PI * random.NextDouble();
            double nx = Math.Cos(angle), ny = Math.Sin(angle);
            for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
            {
                var inside = isDisk ? (x - cx) * (x - cx) + (y - cy) * (y - cy) < radius * radius : (x - cx) * nx + (y - cy) * ny > 0;
                if (!inside) continue;
                for (var c = 0; c < 3; c++) image[c, y, x] += shift[c];
            }
        }

        // Gratings up to 0.45 cycles per pixel, oriented near the class angle, some confined to a disk.
        var gratings = 1 + random.Next(2);
        for (var g = 0; g < gratings; g++)
        {
            var frequency = 0.05 + 0.4 * random.NextDouble();
            var orientation = classAngle + 0.3 * Gaussian(random);
            var phase = 2 * Math.PI * random.NextDouble();
            var amplitude = 0.1 + 0.2 * random.NextDouble();
            var tint = new[] { 0.6 + 0.4 * random.NextDouble(), 0.6 + 0.4 * random.NextDouble(), 0.6 + 0.4 * random.NextDouble() };
            double cx = size * random.NextDouble(), cy = size * random.NextDouble(), radius = size * (0.2 + 0.5 * random.NextDouble());
            var confined = random.NextDouble() < 0.5;
            double kx = 2 * Math.PI * frequency * Math.Cos(orientation), ky = 2 * Math.PI * frequency * Math.Sin(orientation);
            for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
            {
                if (confined && (x - cx) * (x - cx) + (y - cy) * (y - cy) > radius * radius) continue;
                var wave = amplitude * Math.Sin(kx * x + ky * y + phase);
                for (var c = 0; c < 3; c++) image[c, y, x] += tint[c] * wave;
            }
        }

        for (var c = 0; c < 3; c++)
        for (var y = 0; y < size; y++)
        for (var x = 0; x < size; x++)
            pixels[c * plane + y * size + x] = (float)Math.Clamp(image[c, y, x], -1.0, 1.0);
        return label;
    }

    /// <summary>Zero-mean, unit-std noise whose amplitude spectrum falls as 1/f^exponent (random phases), cropped from a power-of-two grid.</summary>
    static double[,] PowerLawField(int size, double exponent, Random random)
    {
        var n = 1;
        while (n < size) n <<= 1;
        var spectrum = new Complex[n, n];
        for (var u = 0; u < n; u++)
        for (var v = 0; v < n; v++)
        {
            double fu = Math.Min(u, n - u), fv = Math.Min(v, n - v);
            var f = Math.Sqrt(fu * fu + fv * fv);
            if (f == 0) continue;
            spectrum[u, v] = new Complex(Gaussian(random), Gaussian(random)) * Math.Pow(f, -exponent);
        }
        Fourier2d.Inverse(spectrum);
        var field = new double[size, size];
        double sum = 0, sumSquares = 0;
        for (var y = 0; y < size; y++)
        for (var x = 0; x < size; x++)
        {
            var value = spectrum[y, x].Real;
            field[y, x] = value;
            sum += value;
            sumSquares += value * value;
        }
        var mean = sum / (size * size);
        var std = Math.Sqrt(Math.Max(sumSquares / (size * size) - mean * mean, 1e-24));
        for (var y = 0; y < size; y++)
        for (var x = 0; x < size; x++)
            field[y, x] = (field[y, x] - mean) / std;
        return field;
    }

    static double[] ClassColour(int label, Random random)
    {
        var hue = 2 * Math.PI * (label * 0.618034 % 1.0) + 0.4 * Gaussian(random);
        var saturation = 0.2 + 0.2 * random.NextDouble();
        var brightness = 0.3 * Gaussian(random);
        return [brightness + saturation * Math.Cos(hue), brightness + saturation * Math.Cos(hue - 2.0944), brightness + saturation * Math.Cos(hue + 2.0944)];
    }

    /// <summary>A standard normal draw (Box–Muller).</summary>
    static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
