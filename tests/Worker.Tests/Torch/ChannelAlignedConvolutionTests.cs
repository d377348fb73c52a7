using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Torch;

[Collection(TorchThreadsCollection.Name)]
public class ChannelAlignedConvolutionTests
{
    public ChannelAlignedConvolutionTests() => TorchRuntime.EnsureLoaded();

    /// <summary>
    /// On AVX2/AVX-512 CPUs, oneDNN's backward-data kernel gave a NaN input gradient for these output channel counts in
    /// 2–22% of plain calls after memory was poisoned (measured on AMD EPYC Zen 4); 60 aligned calls each must all be finite.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(24)]
    public void Backward_OutputChannelsNotABlockMultiple_InputGradientFinite(long outChannels)
    {
        var nonFinite = 0;
        TorchStress.WithThreads(2, () =>
        {
            manual_seed(5);
            using var conv = nn.Conv2d(32, outChannels, 3, padding: 1);
            for (var repeat = 0; repeat < 60; repeat++)
            {
                TorchStress.PoisonFreedMemory();
                using var scope = NewDisposeScope();
                using var generator = new Generator(123);
                var x = randn(new long[] { 16, 32, 32, 32 }, generator: generator).requires_grad_(true);
                var y = ChannelAlignedConvolution.Forward(conv, x);
                y.backward([randn(y.shape, generator: generator)]);
                if (!x.grad!.isfinite().all().item<bool>()) nonFinite++;
            }
        });

        Assert.Equal(0, nonFinite);
    }

    [Theory]
    [InlineData(3, 3, 1)]
    [InlineData(20, 1, 0)]
    public void Forward_Aligned_EqualsFloat64Reference(long outChannels, long kernel, long padding)
    {
        manual_seed(6);
        using var conv = nn.Conv2d(16, outChannels, kernel, padding: padding);
        using var scope = NewDisposeScope();
        var x = randn(new long[] { 2, 16, 8, 8 }).requires_grad_(true);
        var upstream = randn(new long[] { 2, outChannels, 8, 8 });

        var y = ChannelAlignedConvolution.Forward(conv, x);
        y.backward([upstream]);
        var (xGrad, wGrad, bGrad) = (x.grad!.clone(), conv.weight!.grad!.clone(), conv.bias!.grad!.clone());

        // float64 convolutions do not run on oneDNN: an independent reference.
        var x64 = x.detach().to(ScalarType.Float64).requires_grad_(true);
        var w64 = conv.weight!.detach().to(ScalarType.Float64).requires_grad_(true);
        var b64 = conv.bias!.detach().to(ScalarType.Float64).requires_grad_(true);
        var y64 = nn.functional.conv2d(x64, w64, b64, padding: [padding, padding]);
        y64.backward([upstream.to(ScalarType.Float64)]);

        Assert.Equal(y64.shape, y.shape);
        Assert.True(y.to(ScalarType.Float64).allclose(y64, rtol: 1e-5, atol: 1e-5));
        Assert.True(xGrad.to(ScalarType.Float64).allclose(x64.grad!, rtol: 1e-5, atol: 1e-5));
        Assert.True(wGrad.to(ScalarType.Float64).allclose(w64.grad!, rtol: 1e-5, atol: 1e-4));
        Assert.True(bGrad.to(ScalarType.Float64).allclose(b64.grad!, rtol: 1e-5, atol: 1e-4));
    }

    [Fact]
    public void NeedsAlignment_BlockMultipleOrGrouped_False()
    {
        using var aligned = nn.Conv2d(8, 32, 3);
        using var grouped = nn.Conv2d(8, 8, 3, groups: 8);
        using var odd = nn.Conv2d(8, 3, 3);

        Assert.False(ChannelAlignedConvolution.NeedsAlignment(aligned));
        Assert.False(ChannelAlignedConvolution.NeedsAlignment(grouped));
        Assert.True(ChannelAlignedConvolution.NeedsAlignment(odd));
    }
}
