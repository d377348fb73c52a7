using System.Numerics;

namespace SpectralDiffusion.Worker.Data;

/// <summary>An in-place radix-2 2-D inverse FFT for square power-of-two grids (used to synthesise power-law textures without torch).</summary>
static class Fourier2d
{
    public static void Inverse(Complex[,] grid)
    {
        var n = grid.GetLength(0);
        if (n != grid.GetLength(1) || (n & (n - 1)) != 0) throw new ArgumentException($"grid must be square with a power-of-two side, got {n}x{grid.GetLength(1)}");
        var line = new Complex[n];
        for (var pass = 0; pass < 2; pass++)
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++) line[j] = pass == 0 ? grid[i, j] : grid[j, i];
            InverseInPlace(line);
            for (var j = 0; j < n; j++)
                if (pass == 0) grid[i, j] = line[j]; else grid[j, i] = line[j];
        }
    }

    /// <summary>Iterative Cooley–Tukey with e^{+2πi/n} twiddles, unnormalised.</summary>
    static void InverseInPlace(Complex[] a)
    {
        var n = a.Length;
        for (int i = 1, j = 0; i < n; i++)
        {
            var bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1) j ^= bit;
            j ^= bit;
            if (i < j) (a[i], a[j]) = (a[j], a[i]);
        }
        for (var length = 2; length <= n; length <<= 1)
        {
            var root = Complex.FromPolarCoordinates(1, 2 * Math.PI / length);
            for (var start = 0; start < n; start += length)
            {
                var w = Complex.One;
                for (var k = 0; k < length / 2; k++)
                {
                    var even = a[start + k];
                    var odd = a[start + k + length / 2] * w;
                    a[start + k] = even + odd;
                    a[start + k + length / 2] = even - odd;
                    w *= root;
                }
            }
        }
    }
}
