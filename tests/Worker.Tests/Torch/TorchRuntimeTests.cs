using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Torch;

public class TorchRuntimeTests
{
    [Fact]
    public void ConvBackward_FromTestOutputFolder_MatchesFiniteDifference()
    {
        // Arrange: a float64 conv so the central difference is accurate.
        TorchRuntime.EnsureLoaded();
        torch.manual_seed(7);
        var conv = nn.Conv2d(2, 3, 3, padding: 1, dtype: ScalarType.Float64);
        var input = torch.randn(1, 2, 5, 5, dtype: ScalarType.Float64);
        Tensor Loss() => conv.forward(input).pow(2).sum();

        // Act: analytic gradient of one weight entry.
        Loss().backward();
        var weight = conv.weight!;
        var analytic = weight.grad!.flatten()[7].item<double>();

        // Central finite difference on the same entry.
        const double h = 1e-6;
        double Perturbed(double delta)
        {
            using var _ = no_grad();
            var flat = weight.view(-1);
            flat[7] = flat[7] + delta;
            var value = Loss().item<double>();
            flat[7] = flat[7] - delta;
            return value;
        }
        var numeric = (Perturbed(h) - Perturbed(-h)) / (2 * h);

        // Assert
        Assert.True(Math.Abs(analytic) > 1e-3, "the gradient under test should be non-trivial");
        Assert.Equal(numeric, analytic, 5);
    }

    [Fact]
    public void SetThreads_Zero_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TorchRuntime.SetThreads(0));
    }
}
