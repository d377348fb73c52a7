using SpectralDiffusion.Worker.Models;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Diffusion;

/// <summary>The loop both samplers share: x_T ~ N(0, I), then for each timestep (noisiest first) ε̂ = network(x_t, t, c) and one update.</summary>
static class ReverseProcess
{
    /// <param name="update">Computes the next, less noisy x from (x_t, t, ε̂, step index).</param>
    public static Tensor Run(Denoiser denoiser, long[] shape, IReadOnlyList<int> timestepsNoisiestFirst, Func<Tensor, Tensor, Tensor, int, Tensor> update,
        Generator? generator, Conditioning? conditioning, ClassifierFreeGuidance? guidance, Tensor? xT, DenoisingStepCallback? onStep)
    {
        conditioning ??= Conditioning.None;
        if (guidance is not null && conditioning.IsNone)
            throw new ArgumentException("classifier-free guidance needs a condition (class labels or a caption context)", nameof(conditioning));
        using var _ = no_grad();
        var x = xT ?? randn(shape, generator: generator, device: (conditioning.ClassLabels ?? conditioning.Context)?.device ?? CPU);
        for (var step = 0; step < timestepsNoisiestFirst.Count; step++)
        {
            using var scope = NewDisposeScope();
            var current = x;
            var index = step;
            var next = Torch.CollectionPause.Run(() =>
            {
                var t = full([current.shape[0]], timestepsNoisiestFirst[index], ScalarType.Int64, device: current.device);
                var eps = guidance is null || guidance.Scale == 1.0
                    ? denoiser(current, t, conditioning)
                    : guidance.PredictNoise(denoiser, current, t, conditioning);
                return update(current, t, eps, index);
            }).MoveToOuterDisposeScope();
            if (!ReferenceEquals(x, xT)) x.Dispose();   // free the previous x_t, unless it is the caller's own x_T
            x = next;
            onStep?.Invoke(step, timestepsNoisiestFirst[step]);
        }
        return x;
    }
}
