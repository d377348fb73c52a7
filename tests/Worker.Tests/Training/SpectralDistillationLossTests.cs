using SpectralDiffusion.Worker.Torch;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Training;

public class SpectralDistillationLossTests
{
    public SpectralDistillationLossTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Compute_StudentEqualsTeacher_SpatialAndFrequencyAreZero()
    {
        manual_seed(1);
        var x0 = rand(2, 3, 16, 16) * 2 - 1;
        var teacherOut = randn(2, 3, 16, 16);
        var feature = randn(2, 8, 8, 8);
        var aligners = new FeatureAligners(new Dictionary<string, (long, long)> { ["output_blocks.2"] = (8, 8) });
        var pairs = new[]
        {
            new FeaturePair("out", teacherOut, teacherOut.clone()),
            new FeaturePair("output_blocks.2", feature, aligners.forward("output_blocks.2", feature.clone())),
        };
        var loss = new SpectralDistillationLoss(new DistillationWeights());

        var terms = loss.Compute(randn(2, 3, 16, 16), teacherOut, pairs, x0);

        Assert.Equal(0.0, terms.Spatial.item<float>(), 6);
        Assert.Equal(0.0, terms.Frequency.item<float>(), 6);
        Assert.True(terms.Ddpm.item<float>() > 0.5f, "the DDPM term still compares against the true noise");
    }

    [Fact]
    public void Compute_UniformWeightAlphaZero_FrequencyEqualsSpatial()
    {
        // Parseval: with α = 0 the weight is 1 everywhere and orthonormal FFTs preserve energy.
        manual_seed(2);
        var teacher = randn(2, 4, 8, 8);
        var student = randn(2, 4, 8, 8);
        var loss = new SpectralDistillationLoss(new DistillationWeights { Alpha = 0 });

        var terms = loss.Compute(randn(2, 4, 8, 8), student, new[] { new FeaturePair("out", teacher, student) }, randn(2, 3, 8, 8));

        Assert.Equal(terms.Spatial.item<float>(), terms.Frequency.item<float>(), 4);
    }

    [Fact]
    public void Compute_DisabledTerms_AreZeroAndTotalIsWeightedSum()
    {
        manual_seed(3);
        var teacher = randn(1, 3, 8, 8);
        var student = randn(1, 3, 8, 8);
        var noise = randn(1, 3, 8, 8);
        var pairs = new[] { new FeaturePair("out", teacher, student) };
        var x0 = rand(1, 3, 8, 8);

        var spatialOnly = new SpectralDistillationLoss(new DistillationWeights { UseFrequency = false, LambdaSpatial = 0.5 }).Compute(noise, student, pairs, x0);
        var both = new SpectralDistillationLoss(new DistillationWeights { LambdaSpatial = 0.5, LambdaFrequency = 0.25 }).Compute(noise, student, pairs, x0);

        Assert.Equal(0f, spatialOnly.Frequency.item<float>());
        Assert.Equal(spatialOnly.Ddpm.item<float>() + 0.5f * spatialOnly.Spatial.item<float>(), spatialOnly.Total.item<float>(), 4);
        Assert.Equal(both.Ddpm.item<float>() + 0.5f * both.Spatial.item<float>() + 0.25f * both.Frequency.item<float>(), both.Total.item<float>(), 4);
    }

    [Fact]
    public void Compute_MismatchedShapes_ThrowsNamingTheFeature()
    {
        var loss = new SpectralDistillationLoss(new DistillationWeights());
        var pairs = new[] { new FeaturePair("output_blocks.5", zeros(1, 4, 8, 8), zeros(1, 4, 4, 4)) };

        var error = Assert.Throws<ArgumentException>(() => loss.Compute(zeros(1, 3, 8, 8), zeros(1, 3, 8, 8), pairs, zeros(1, 3, 8, 8)));

        Assert.Contains("output_blocks.5", error.Message);
    }

    [Fact]
    public void Constructor_AllTermsDisabled_Throws()
    {
        Assert.Throws<ArgumentException>(() => new SpectralDistillationLoss(new DistillationWeights { UseDdpm = false, UseSpatial = false, UseFrequency = false }));
    }
}
