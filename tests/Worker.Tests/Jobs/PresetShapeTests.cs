using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Jobs;

/// <summary>The orchestrator checks specs against <see cref="KnownPresets"/> without TorchSharp; these keep it equal to the engine.</summary>
public class PresetShapeTests
{
    public PresetShapeTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Shape_EveryPreset_MatchesTheEnginesArchitecture()
    {
        Assert.Equal(UNetPresets.Names, KnownPresets.All);
        foreach (var name in UNetPresets.Names)
        {
            var config = UNetPresets.Get(name);
            var shape = KnownPresets.Shape(name);

            Assert.Equal((config.ImageSize, config.InChannels, config.ChannelMult.Length, config.NumClasses ?? 0, config.IsTextConditional ? config.ContextDim : 0),
                (shape.ImageSize, shape.Channels, shape.Resolutions, shape.Classes, shape.TextContextDim));
        }
    }

    [Theory]
    [InlineData("tiny-ldm", "tiny-sd")]
    [InlineData("tiny-lite-ldm", "tiny-sd")]
    [InlineData("tiny-cin-ldm", "tiny-cin-sd")]
    [InlineData("tiny-ldm", "tiny-cin-sd")]
    [InlineData("tiny-cin-ldm", "tiny-lite-ldm")]
    [InlineData("tiny-txt-ldm", "tiny-txt-sd")]
    [InlineData("tiny-txt-ldm", "tiny-sd")]
    [InlineData("tiny-ldm", "tiny-txt-sd")]
    public void DistillationProblem_TinyPairs_AgreesWithTheDistillationObjective(string teacherPreset, string studentPreset)
    {
        var problem = KnownPresets.DistillationProblem(teacherPreset, studentPreset);
        manual_seed(1);
        using var teacher = new UNetModel(UNetPresets.Get(teacherPreset));
        using var student = new UNetModel(UNetPresets.Get(studentPreset));

        Exception? refused = null;
        try { new DistillationObjective(teacher, student, new SpectralDistillationLoss(new DistillationWeights()), NoiseSchedule.LdmLinear()).Dispose(); }
        catch (ArgumentException e) { refused = e; }

        Assert.Equal(problem is null, refused is null);
    }
}
