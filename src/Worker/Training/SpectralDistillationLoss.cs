using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Training;

/// <summary>A teacher feature and the student feature already passed through its 1×1 aligner (same shape).</summary>
public readonly record struct FeaturePair(string Name, Tensor Teacher, Tensor Student);

/// <summary>The three terms and their weighted total; disabled terms are zero tensors.</summary>
public sealed record DistillationLossTerms(Tensor Total, Tensor Ddpm, Tensor Spatial, Tensor Frequency);

/// <summary>
/// Spectrum-aware distillation (paper §5.2, Eqs. 9–11): L = L_ddpm + λs·L_spatial + λf·L_freq, where
/// L_spatial = Σ_i mean((f_T^i − f_S^i)²) and L_freq = Σ_i mean(w_i · |FFT2(f_T^i) − FFT2(f_S^i)|²),
/// over the outputs and the tapped decoder features. FFTs are orthonormal, so with w = 1 the frequency
/// term equals the spatial one (Parseval) and λs, λf are on the same scale.
/// </summary>
public sealed class SpectralDistillationLoss
{
    readonly DistillationWeights weights;

    public SpectralDistillationLoss(DistillationWeights weights)
    {
        weights.Validate();
        this.weights = weights;
    }

    public DistillationWeights Weights => weights;

    /// <param name="noise">ε that produced x_t.</param>
    /// <param name="studentOutput">the student's ε prediction.</param>
    /// <param name="pairs">teacher/student pairs, the outputs included.</param>
    /// <param name="x0">the clean images, for the frequency weight.</param>
    public DistillationLossTerms Compute(Tensor noise, Tensor studentOutput, IReadOnlyList<FeaturePair> pairs, Tensor x0)
    {
        var zero = zeros(1, dtype: studentOutput.dtype, device: studentOutput.device).squeeze();
        // L_ddpm: ε-prediction MSE against the true noise.
        var ddpm = weights.UseDdpm ? nn.functional.mse_loss(studentOutput, noise) : zero;
        var spatial = weights.UseSpatial ? Spatial(pairs) : zero;
        var frequency = weights.UseFrequency ? Frequency(pairs, x0) : zero;
        var total = ddpm + weights.LambdaSpatial * spatial + weights.LambdaFrequency * frequency;
        return new DistillationLossTerms(total, ddpm, spatial, frequency);
    }

    static Tensor Spatial(IReadOnlyList<FeaturePair> pairs)
    {
        Tensor? sum = null;
        foreach (var pair in pairs)
        {
            CheckShapes(pair);
            var term = nn.functional.mse_loss(pair.Student, pair.Teacher.detach());
            sum = sum is null ? term : sum + term;
        }
        return sum ?? throw new ArgumentException("spatial distillation needs at least one feature pair");
    }

    Tensor Frequency(IReadOnlyList<FeaturePair> pairs, Tensor x0)
    {
        Tensor? sum = null;
        foreach (var pair in pairs)
        {
            CheckShapes(pair);
            var height = pair.Teacher.shape[2];
            var width = pair.Teacher.shape[3];
            var w = FrequencyWeight.Compute(x0, height, width, weights.Alpha, weights.Epsilon);
            var difference = fft.fft2(pair.Teacher.detach().to_type(ScalarType.Float32), norm: TorchSharp.FFTNormType.Ortho)
                           - fft.fft2(pair.Student.to_type(ScalarType.Float32), norm: TorchSharp.FFTNormType.Ortho);
            var squaredMagnitude = difference.real.square() + difference.imag.square();
            var term = (w * squaredMagnitude).mean();
            sum = sum is null ? term : sum + term;
        }
        return sum ?? throw new ArgumentException("frequency distillation needs at least one feature pair");
    }

    static void CheckShapes(FeaturePair pair)
    {
        if (!pair.Teacher.shape.SequenceEqual(pair.Student.shape))
            throw new ArgumentException(
                $"feature '{pair.Name}': teacher shape [{string.Join(", ", pair.Teacher.shape)}] and aligned student shape " +
                $"[{string.Join(", ", pair.Student.shape)}] differ; the student's tap must be at the same resolution as the teacher's");
    }
}
