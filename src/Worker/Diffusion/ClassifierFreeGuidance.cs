using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Diffusion;

/// <summary>Classifier-free guidance: ε = ε(x, ∅) + s·(ε(x, y) − ε(x, ∅)), with the null class ∅ chosen by the caller.</summary>
/// <param name="Scale">The guidance scale s; 1 is the plain conditional prediction.</param>
/// <param name="NullClass">The class index the model was trained to read as "no class".</param>
public sealed record ClassifierFreeGuidance(double Scale, long NullClass)
{
    /// <summary>The guided noise prediction, computed as one forward of 2B (unconditional half first, as CompVis batches it).</summary>
    public Tensor PredictNoise(Denoiser denoiser, Tensor x, Tensor t, Tensor classLabels)
    {
        var nullLabels = full_like(classLabels, NullClass);
        var both = denoiser(cat([x, x]), cat([t, t]), cat([nullLabels, classLabels]));
        var halves = both.chunk(2);
        var (unconditional, conditional) = (halves[0], halves[1]);
        return unconditional + Scale * (conditional - unconditional);
    }
}
