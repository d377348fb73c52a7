using SpectralDiffusion.Worker.Models;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Diffusion;

/// <summary>Classifier-free guidance: ε = ε(x, ∅) + s·(ε(x, c) − ε(x, ∅)), with the null condition ∅ chosen by the caller:
/// the null class of a class-conditional model, or the empty-prompt context of a text model.</summary>
/// <param name="Scale">The guidance scale s; 1 is the plain conditional prediction.</param>
/// <param name="Unconditional">One row of the null condition (the null class label, or a (1, L, D) null context).</param>
public sealed record ClassifierFreeGuidance(double Scale, Conditioning Unconditional)
{
    /// <summary>Guidance for a class-conditional model whose label <paramref name="nullClass"/> means "no class".</summary>
    public static ClassifierFreeGuidance ForNullClass(double scale, long nullClass) =>
        new(scale, Conditioning.Classes(tensor(new[] { nullClass })));

    /// <summary>The guided noise prediction, computed as one forward of 2B (unconditional half first, as CompVis batches it).</summary>
    public Tensor PredictNoise(Denoiser denoiser, Tensor x, Tensor t, Conditioning conditioning)
    {
        if (conditioning.IsNone) throw new ArgumentException("classifier-free guidance needs a condition (class labels or a caption context)", nameof(conditioning));
        var unconditional = Unconditional.BatchSize == x.shape[0] ? Unconditional : Unconditional.Narrow(0, 1).Expand(x.shape[0]);
        var both = denoiser(cat([x, x]), cat([t, t]), unconditional.To(x.device).Concat(conditioning));
        var halves = both.chunk(2);
        var (unconditionalNoise, conditionalNoise) = (halves[0], halves[1]);
        return unconditionalNoise + Scale * (conditionalNoise - unconditionalNoise);
    }
}
