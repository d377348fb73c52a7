using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Evaluation;

/// <summary>
/// d²(N(μ1, Σ1), N(μ2, Σ2)) = |μ1 − μ2|² + tr Σ1 + tr Σ2 − 2 tr √(Σ1 Σ2), in float64. tr √(Σ1 Σ2) is computed as
/// tr √(√Σ1 Σ2 √Σ1), a symmetric PSD matrix with the same eigenvalues, through two symmetric eigendecompositions;
/// eigenvalues that rounding pushed below zero count as zero.
/// </summary>
public static class FrechetDistance
{
    public static double Compute(GaussianStatistics first, GaussianStatistics second)
    {
        if (first.Dimension != second.Dimension)
            throw new ArgumentException($"statistics have different dimensions: {first.Dimension} and {second.Dimension}", nameof(second));
        using var scope = NewDisposeScope();
        var mean1 = tensor(first.Mean, ScalarType.Float64);
        var mean2 = tensor(second.Mean, ScalarType.Float64);
        var sigma1 = Symmetric(first.Covariance);
        var sigma2 = Symmetric(second.Covariance);
        var meanTerm = (mean1 - mean2).pow(2).sum().item<double>();
        var sqrtSigma1 = SymmetricSqrt(sigma1);
        var traceSqrtProduct = SqrtEigenvalues(Symmetrise(sqrtSigma1.matmul(sigma2).matmul(sqrtSigma1))).sum().item<double>();
        return meanTerm + sigma1.trace().item<double>() + sigma2.trace().item<double>() - 2 * traceSqrtProduct;
    }

    /// <summary>√A = V diag(√max(λ, 0)) Vᵀ for a symmetric PSD A.</summary>
    static Tensor SymmetricSqrt(Tensor a)
    {
        var (eigenvalues, eigenvectors) = linalg.eigh(a);
        return eigenvectors.matmul(diag(eigenvalues.clamp_min(0).sqrt())).matmul(eigenvectors.t());
    }

    static Tensor SqrtEigenvalues(Tensor a) => linalg.eigvalsh(a).clamp_min(0).sqrt();

    static Tensor Symmetrise(Tensor a) => (a + a.t()) / 2;

    static Tensor Symmetric(double[,] matrix)
    {
        var n = matrix.GetLength(0);
        if (matrix.GetLength(1) != n) throw new ArgumentException($"a covariance must be square, got {n}x{matrix.GetLength(1)}", nameof(matrix));
        return Symmetrise(tensor(matrix, ScalarType.Float64));
    }
}
