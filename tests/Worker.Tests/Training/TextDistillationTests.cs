using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Training;

/// <summary>Teacher and student of a text model see the same captions, and the same null context where captions are dropped.</summary>
public class TextDistillationTests
{
    public TextDistillationTests() => TorchRuntime.EnsureLoaded();

    static UNetConfig Text(int modelChannels, bool wavelet = false) => TrainingFixtures.Micro(modelChannels, wavelet) with
    {
        AttentionResolutions = [2], NumHeadChannels = 8, UseSpatialTransformer = true, ContextDim = 12, ContextTokens = 3, LearnedNullContext = true,
    };

    static UNetModel Model(UNetConfig config, long seed)
    {
        manual_seed(seed);
        var model = new UNetModel(config);
        using var _ = no_grad();
        foreach (var (_, parameter) in model.named_parameters()) parameter.copy_(randn_like(parameter) * 0.1);
        return model;
    }

    [Fact]
    public void Constructor_LearnedNullContexts_StudentTakesTheTeachersFrozen()
    {
        using var teacher = Model(Text(16), 1);
        using var student = Model(Text(8, wavelet: true), 2);

        using var objective = new DistillationObjective(teacher, student, new SpectralDistillationLoss(new DistillationWeights()), NoiseSchedule.LdmLinear());

        Assert.True(student.NullContext!.allclose(teacher.NullContext!, rtol: 0, atol: 0));
        Assert.False(student.NullContext!.requires_grad);
        Assert.DoesNotContain(objective.TrainableParameters, p => p.Name == "model.null_context");
    }

    [Fact]
    public void Loss_StudentCopyOfTeacherWithCaptions_SpatialTermIsZeroAndCaptionsMatter()
    {
        using var teacher = Model(Text(16), 3);
        using var student = Model(Text(16), 4);
        student.load_state_dict(teacher.state_dict());
        using var objective = new DistillationObjective(teacher, student, new SpectralDistillationLoss(new DistillationWeights()), NoiseSchedule.LdmLinear());
        student.eval();
        var images = TrainingFixtures.Images(2, 3);
        var t = tensor(new long[] { 10, 900 });
        var noise = randn(2, 3, 16, 16);
        var captions = Conditioning.Text(randn(2, 3, 12));

        var losses = objective.Loss(images, captions, t, noise);
        var other = objective.Loss(images, Conditioning.Text(randn(2, 3, 12)), t, noise);

        Assert.Equal(0.0, losses["loss_spatial"].item<float>(), 6);
        Assert.NotEqual(losses["loss_ddpm"].item<float>(), other["loss_ddpm"].item<float>());
    }

    [Fact]
    public void Constructor_TextTeacherClassStudent_ThrowsNamingTheTextContext()
    {
        using var teacher = Model(Text(16), 5);
        using var student = Model(TrainingFixtures.Micro(16), 6);

        var error = Assert.Throws<ArgumentException>(() => new DistillationObjective(teacher, student, new SpectralDistillationLoss(new DistillationWeights()), NoiseSchedule.LdmLinear()));

        Assert.Contains("text context", error.Message);
    }
}
