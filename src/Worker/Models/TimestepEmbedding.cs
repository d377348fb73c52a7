using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Models;

/// <summary>The small pure helpers of CompVis <c>diffusionmodules/util.py</c>.</summary>
public static class TimestepEmbedding
{
    /// <summary>Sinusoidal timestep embedding, cos first: [cos(t·f_i), sin(t·f_i)], f_i = maxPeriod^(−i/half).</summary>
    public static Tensor Sinusoidal(Tensor timesteps, int dim, double maxPeriod = 10000)
    {
        if (timesteps.dim() != 1)
            throw new ArgumentException($"timesteps must be a 1-D batch; got shape ({string.Join(", ", timesteps.shape)})", nameof(timesteps));
        var half = dim / 2;
        var freqs = exp(-Math.Log(maxPeriod) * arange(0, half, dtype: ScalarType.Float32, device: timesteps.device) / half);
        var args = timesteps.to(ScalarType.Float32).unsqueeze(1) * freqs.unsqueeze(0);
        var embedding = cat(new[] { cos(args), sin(args) }, dim: -1);
        return dim % 2 == 1 ? cat(new[] { embedding, zeros_like(embedding[.., ..1]) }, dim: -1) : embedding;
    }

    /// <summary>Zeroes a module's parameters and returns it (CompVis <c>zero_module</c>).</summary>
    public static T ZeroModule<T>(T module) where T : nn.Module
    {
        using var _ = no_grad();
        foreach (var parameter in module.parameters()) parameter.zero_();
        return module;
    }
}
