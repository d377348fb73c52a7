using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Torch;

/// <summary>
/// Shows whether this machine's libtorch has the oneDNN padding fault (see <see cref="ChannelAlignedConvolution"/>):
/// backward passes of a 32→3 convolution, plain and aligned, each after NaN-filled memory was freed.
/// </summary>
public static class ConvolutionSelfCheck
{
    public sealed record Result(int Repeats, int PlainNonFinite, int AlignedNonFinite);

    /// <summary>Fills and frees small NaN tensors, so a kernel that reads memory it never wrote sees NaN, not fresh zeros.</summary>
    public static void PoisonFreedMemory()
    {
        using var scope = NewDisposeScope();
        for (var k = 0; k < 64; k++) full(new long[] { 1024 * (1 + k % 16) }, float.NaN);
    }

    public static Result Run(int repeats = 30)
    {
        TorchRuntime.EnsureLoaded();
        var wasEnabled = ChannelAlignedConvolution.Enabled;
        int plain = 0, aligned = 0;
        try
        {
            using var conv = nn.Conv2d(32, 3, 3, padding: 1);
            for (var i = 0; i < repeats; i++)
            {
                ChannelAlignedConvolution.Enabled = false;
                if (!InputGradientFinite(conv)) plain++;
                ChannelAlignedConvolution.Enabled = true;
                if (!InputGradientFinite(conv)) aligned++;
            }
        }
        finally
        {
            ChannelAlignedConvolution.Enabled = wasEnabled;
        }
        return new Result(repeats, plain, aligned);
    }

    static bool InputGradientFinite(TorchSharp.Modules.Conv2d conv)
    {
        PoisonFreedMemory();
        using var scope = NewDisposeScope();
        var x = randn(16, 32, 32, 32).requires_grad_(true);
        var y = ChannelAlignedConvolution.Forward(conv, x);
        y.backward([ones_like(y)]);
        return x.grad!.isfinite().all().item<bool>();
    }
}
