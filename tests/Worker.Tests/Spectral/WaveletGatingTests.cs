using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Spectral;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Spectral;

public class WaveletGatingTests
{
    public WaveletGatingTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void WaveletGatedDownsample_Forward_EqualsGatedSumOfDwtBands()
    {
        manual_seed(3);
        using var down = new WaveletGatedDownsample(8, WaveletGateInit.Neutral);
        var x = randn(2, 8, 6, 6);

        var output = down.forward(x);
        var gates = down.Gate.forward(x);                                            // (B, C, 4)
        var expected = (HaarWavelet.Dwt(x) * gates.unsqueeze(-1).unsqueeze(-1)).sum(2); // Σ_b g_b ⊙ X_b

        Assert.Equal(new long[] { 2, 8, 3, 3 }, output.shape);
        Assert.True((output - expected).abs().max().item<float>() < 1e-5f);
    }

    [Fact]
    public void WaveletGatedUpsample_Forward_EqualsIdwtOfGatedInput()
    {
        manual_seed(4);
        using var up = new WaveletGatedUpsample(8, WaveletGateInit.Neutral);
        var x = randn(2, 8, 3, 5);

        var output = up.forward(x);
        var gates = up.Gate.forward(x);
        var expected = HaarWavelet.Idwt(x.unsqueeze(2) * gates.unsqueeze(-1).unsqueeze(-1)); // IDWT(g_b ⊙ X)

        Assert.Equal(new long[] { 2, 8, 6, 10 }, output.shape);
        Assert.True((output - expected).abs().max().item<float>() < 1e-5f);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WaveletGatedLayers_Backward_MatchFiniteDifferences(bool downsample)
    {
        manual_seed(5);
        using nn.Module<Tensor, Tensor> layer = downsample ? new WaveletGatedDownsample(8) : new WaveletGatedUpsample(8);
        layer.to(ScalarType.Float64);
        var x = randn(new long[] { 1, 8, 4, 4 }, dtype: ScalarType.Float64, requires_grad: true);
        var weight = layer.parameters().First(); // the gate's first Linear weight
        Func<double> loss = () => layer.forward(x).square().sum().item<double>();

        layer.forward(x).square().sum().backward();
        var analytic = new[] { x.grad!.flatten()[7].item<double>(), weight.grad!.flatten()[3].item<double>() };
        var numeric = new[] { NumericGradient(x, 7, loss), NumericGradient(weight, 3, loss) };

        for (var i = 0; i < 2; i++)
            Assert.True(Math.Abs(analytic[i] - numeric[i]) <= 1e-6 * Math.Max(1, Math.Abs(numeric[i])), $"gradient {i}: analytic {analytic[i]}, numeric {numeric[i]}");
    }

    static double NumericGradient(Tensor parameter, long index, Func<double> loss)
    {
        const double h = 1e-6;
        using var _ = no_grad();
        var flat = parameter.view(-1);
        var original = flat[index].item<double>();
        flat[index] = tensor(original + h, ScalarType.Float64);
        var plus = loss();
        flat[index] = tensor(original - h, ScalarType.Float64);
        var minus = loss();
        flat[index] = tensor(original, ScalarType.Float64);
        return (plus - minus) / (2 * h);
    }

    [Fact]
    public void WaveletGate_LowPassInit_FavoursLlBand()
    {
        using var gate = new WaveletGate(16, WaveletGateInit.LowPass);

        gate.forward(zeros(1, 16, 4, 4));
        var means = gate.MeanGatePerBand!;

        Assert.True(means[0] > 0.8f && means[1..].All(m => m < 0.2f), $"gates {string.Join(", ", means)}");
    }

    [Fact]
    public void GateSnapshot_TwoTimesteps_GatesDiffer()
    {
        manual_seed(6);
        using var model = new UNetModel(UNetPresets.TinySd());
        RandomiseZeroInitialisedWeights(model); // zero-initialised output convs would hide the timestep from the features
        var x = randn(1, 3, 32, 32);

        model.forward(x, tensor(new long[] { 10 }));
        var early = model.GateSnapshot();
        model.forward(x, tensor(new long[] { 900 }));
        var late = model.GateSnapshot();

        Assert.Equal(4, early.Count); // 2 WG-Down + 2 WG-Up in a 3-level UNet
        Assert.Contains(early, g => g.Layer.StartsWith("input_blocks.") && g.MeanGatePerBand.Length == 4);
        var largestChange = early.Zip(late).Max(pair => pair.First.MeanGatePerBand.Zip(pair.Second.MeanGatePerBand).Max(b => Math.Abs(b.First - b.Second)));
        Assert.True(largestChange > 1e-4, $"gates barely moved between t=10 and t=900 ({largestChange})");
    }

    static void RandomiseZeroInitialisedWeights(nn.Module model)
    {
        using var _ = no_grad();
        foreach (var parameter in model.parameters())
            if (parameter.abs().sum().item<float>() == 0) parameter.normal_(0, 0.05);
    }
}
