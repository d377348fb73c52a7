using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Torch;

/// <summary>
/// Runs a convolution so that its backward pass never reads uninitialised memory in libtorch's oneDNN kernels.
/// <para>
/// The fault (libtorch 2.10 / oneDNN 3.7.1 on AMD EPYC Zen 4): the AVX2 and AVX-512 JIT kernels of convolution
/// <i>backward-data</i> block output channels by 8 (AVX2) or 16 (AVX-512). When the output channel count is not a
/// multiple of the block, the padded channels of a blocked buffer are left uninitialised and enter the input gradient;
/// whenever that memory held a NaN pattern the whole gradient becomes NaN. It struck at random, at 1 and 2 threads,
/// for every UNet (whose output conv has 3 channels) — see docs/numerics.md for the measurements.
/// </para>
/// <para>
/// The route around it: when the input needs a gradient and the output channels are not a multiple of
/// <see cref="ChannelBlock"/>, the weight and bias are padded with explicit zeros up to the next multiple and the extra
/// outputs are cut off. The kernel then sees no padding at all; the extra channels carry exact zeros forward and back,
/// so the result equals the plain convolution. oneDNN pads to the same width internally anyway, so it costs nothing
/// but two small copies.
/// </para>
/// </summary>
public static class ChannelAlignedConvolution
{
    /// <summary>The widest oneDNN channel block on x86 (AVX-512: 16 floats); a multiple of AVX2's 8.</summary>
    public const long ChannelBlock = 16;

    /// <summary>On by default. Turning it off restores libtorch's plain path: only for measuring the fault and the cost of
    /// this route around it (the conv-alignment benchmark, the doctor's self-check).</summary>
    public static bool Enabled { get; set; } = true;

    /// <summary>Whether <paramref name="conv"/> has output channels that oneDNN would pad (and can be aligned here).</summary>
    public static bool NeedsAlignment(Convolution conv) =>
        conv.out_channels % ChannelBlock != 0 && conv.groups == 1 && !conv.transposed
        && conv.padding_type is null && conv.padding_mode == PaddingModes.Zeros;

    /// <summary>The convolution's output; aligned when a backward pass through the input will follow.</summary>
    public static Tensor Forward(Convolution conv, Tensor input)
    {
        if (!Enabled || !NeedsAlignment(conv) || !input.requires_grad || !is_grad_enabled() || input.device_type != DeviceType.CPU)
            return Plain(conv, input);
        var weight = conv.weight!;
        var outChannels = weight.shape[0];
        var extra = (outChannels + ChannelBlock - 1) / ChannelBlock * ChannelBlock - outChannels;
        var padding = new long[2 * weight.dim()];
        padding[^1] = extra;                                              // F.pad lists dims last-first: dim 0 is the last pair
        var alignedWeight = nn.functional.pad(weight, padding);
        var alignedBias = conv.bias is null ? null : nn.functional.pad(conv.bias, [0, extra]);
        var output = weight.dim() switch
        {
            3 => nn.functional.conv1d(input, alignedWeight, alignedBias, conv.stride[0], conv.padding![0], conv.dilation[0]),
            4 => nn.functional.conv2d(input, alignedWeight, alignedBias, conv.stride, conv.padding!, conv.dilation),
            _ => throw new NotSupportedException($"{weight.dim() - 2}-D convolutions are not aligned"),
        };
        return output.narrow(1, 0, outChannels);
    }

    static Tensor Plain(Convolution conv, Tensor input) => conv switch
    {
        Conv2d conv2d => conv2d.forward(input),
        Conv1d conv1d => conv1d.forward(input),
        _ => throw new NotSupportedException($"{conv.GetType().Name} is not supported"),
    };
}
