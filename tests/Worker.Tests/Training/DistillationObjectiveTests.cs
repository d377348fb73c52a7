using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Training;

public class DistillationObjectiveTests
{
    public DistillationObjectiveTests() => TorchRuntime.EnsureLoaded();

    static UNetModel Model(UNetConfig config, long seed)
    {
        manual_seed(seed);
        return new UNetModel(config);
    }

    [Fact]
    public void Loss_StudentIsCopyOfTeacher_SpatialAndFrequencyTermsAreZero()
    {
        var config = TrainingFixtures.Micro();
        var teacher = Model(config, 1);
        var student = Model(config, 2);
        student.load_state_dict(teacher.state_dict());
        using var objective = new DistillationObjective(teacher, student, new SpectralDistillationLoss(new DistillationWeights()), NoiseSchedule.LdmLinear());
        student.eval();

        var losses = objective.Loss(TrainingFixtures.Images(2, 3), Conditioning.None, tensor(new long[] { 10, 900 }), randn(2, 3, 16, 16));

        Assert.Equal(0.0, losses["loss_spatial"].item<float>(), 6);
        Assert.Equal(0.0, losses["loss_freq"].item<float>(), 6);
        Assert.Equal(config.ChannelMult.Length, objective.Taps.Count);
    }

    [Fact]
    public void Loss_WaveletStudentOfWiderTeacher_IsFiniteAndPositiveWithGradientsOnAligners()
    {
        var teacher = Model(TrainingFixtures.Micro(modelChannels: 32), 3);
        var student = Model(TrainingFixtures.Micro(modelChannels: 16, wavelet: true), 4);
        using var objective = new DistillationObjective(teacher, student, new SpectralDistillationLoss(new DistillationWeights()), NoiseSchedule.LdmLinear());

        var losses = objective.Loss(TrainingFixtures.Images(2, 5), Conditioning.None, tensor(new long[] { 100, 500 }), randn(2, 3, 16, 16));
        losses["loss"].backward();

        Assert.True(losses["loss_spatial"].item<float>() > 0);
        Assert.True(losses["loss_freq"].item<float>() > 0);
        Assert.All(objective.Aligners.parameters(), p => Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0));
        Assert.All(teacher.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void Constructor_StudentHasResolutionTeacherLacks_ThrowsCannotBeAligned()
    {
        var teacher = Model(TrainingFixtures.Micro(mult: [1, 2]), 5);
        var student = Model(TrainingFixtures.Micro(mult: [1, 2, 2]), 6);

        var error = Assert.Throws<ArgumentException>(() =>
            new DistillationObjective(teacher, student, new SpectralDistillationLoss(new DistillationWeights()), NoiseSchedule.LdmLinear()));

        Assert.Contains("cannot be aligned", error.Message);
    }

    [Fact]
    public void Constructor_DifferentImageSizes_ThrowsNamingBoth()
    {
        var teacher = Model(TrainingFixtures.Micro(), 7);
        var student = Model(TrainingFixtures.Micro() with { ImageSize = 32 }, 8);

        var error = Assert.Throws<ArgumentException>(() =>
            new DistillationObjective(teacher, student, new SpectralDistillationLoss(new DistillationWeights()), NoiseSchedule.LdmLinear()));

        Assert.Contains("16 vs 32", error.Message);
    }
}
