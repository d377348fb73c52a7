using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Sampling;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Sampling;

public class ImageSamplerTests
{
    /// <summary>Stands in for DDIM: one step, reports it, and returns x_T drawn from the batch's generator.</summary>
    sealed class OneStepSampler : IReverseSampler
    {
        public Tensor Sample(Denoiser denoiser, long[] shape, Generator? generator = null, Conditioning? conditioning = null,
            ClassifierFreeGuidance? guidance = null, bool clipDenoised = false, Tensor? xT = null, DenoisingStepCallback? onStep = null)
        {
            onStep?.Invoke(0, 999);
            return randn(shape, generator: generator);
        }
    }

    [Fact]
    public void Run_FiveSamplesInBatchesOfTwo_HooksOnlyTheFirstBatchAndNumbersSamplesFromTheStart()
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        using var model = new UNetModel(UNetPresets.Tiny16Sd());
        var steps = 0;
        var hooks = new DenoisingHooks((x, t, c) => model.forward(x, t, c), (_, _) => steps++);
        var batches = new List<(int Offset, int First, int Count, int Completed)>();
        using var seeds = SampleSeeds.PerBatch(3);

        // Act
        new ImageSampler(model, new OneStepSampler()).Run(10, 5, 2, seeds, (_, _, _) => Conditioning.None,
            batch => batches.Add((batch.Offset, batch.FirstSample, batch.Count, batch.Completed)), firstBatchHooks: hooks);

        // Assert
        Assert.Equal(1, steps);
        Assert.Equal([(0, 10, 2, 2), (2, 12, 2, 4), (4, 14, 1, 5)], batches);
    }

    [Fact]
    public void PerBatch_SameFirstSample_DrawsTheSameNoiseWhateverCameBefore()
    {
        // Arrange
        TorchRuntime.EnsureLoaded();
        using var fresh = SampleSeeds.PerBatch(7);
        using var used = SampleSeeds.PerBatch(7);
        using var _ = randn([4], generator: used.ForBatch(0));

        // Act
        using var first = randn([4], generator: fresh.ForBatch(2));
        using var second = randn([4], generator: used.ForBatch(2));

        // Assert
        Assert.Equal(first.data<float>().ToArray(), second.data<float>().ToArray());
    }

    [Fact]
    public void Parse_UnknownSampler_NamesTheFlagAndTheChoices()
    {
        var error = Assert.Throws<ArgumentException>(() => SamplerKinds.Parse("dpm", "--sampler"));

        Assert.Equal("--sampler 'dpm' is unknown: use ddim or ddpm", error.Message);
    }
}
