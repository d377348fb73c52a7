using SpectralDiffusion.Worker.Spectral;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Spectral;

public class HaarWaveletTests
{
    public HaarWaveletTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Idwt_OfDwt_ReproducesInput()
    {
        manual_seed(1);
        var x = randn(2, 3, 8, 6);

        var roundTrip = HaarWavelet.Idwt(HaarWavelet.Dwt(x));

        Assert.True((roundTrip - x).abs().max().item<float>() < 1e-6f);
    }

    [Fact]
    public void Dwt_RandomInput_PreservesEnergy()
    {
        manual_seed(2);
        var x = randn(2, 4, 16, 16, dtype: ScalarType.Float64);

        var bands = HaarWavelet.Dwt(x);

        Assert.Equal(x.square().sum().item<double>(), bands.square().sum().item<double>(), 9);
    }

    [Fact]
    public void Dwt_HandComputed2x2_MatchesBandLayout()
    {
        // [[a, b], [c, d]] = [[1, 2], [3, 4]]
        var x = tensor(new float[] { 1, 2, 3, 4 }, new long[] { 1, 1, 2, 2 });

        var bands = HaarWavelet.Dwt(x).flatten().data<float>().ToArray();

        Assert.Equal(new[] { "LL", "LH", "HL", "HH" }, HaarWavelet.BandNames);
        Assert.Equal(new[] { 5f, -2f, -1f, 0f }, bands); // (a+b+c+d)/2, (a+b−c−d)/2, (a−b+c−d)/2, (a−b−c+d)/2
    }

    [Fact]
    public void Dwt_OddSize_ThrowsNamingTheSize()
    {
        var error = Assert.Throws<ArgumentException>(() => HaarWavelet.Dwt(zeros(1, 1, 5, 4)));

        Assert.Contains("5×4", error.Message);
    }

    [Fact]
    public void Idwt_WrongBandDimension_Throws()
    {
        Assert.Throws<ArgumentException>(() => HaarWavelet.Idwt(zeros(new long[] { 1, 2, 3, 4, 4 })));
    }
}
