using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Shared.Tests.Jobs;

public class ModelConfigRulesTests
{
    readonly JobSpecValidator validator = new(maxWorldSize: 8);

    [Fact]
    public void Validate_ConfigAndGateInitGiven_HasNoViolations()
    {
        var spec = ValidSpecs.Distill();
        spec.Teacher.Config = "configs/teacher.yaml";
        spec.Model.GateInit = PresetSchedules.Neutral;

        Assert.Empty(validator.Validate(spec));
    }

    [Theory]
    [InlineData("teacher.ckpt", "", "spec.model.config")]
    [InlineData("", "sideways", "spec.model.gate_init")]
    public void Validate_BadConfigOrGateInit_NamesTheField(string config, string gateInit, string field)
    {
        var spec = ValidSpecs.Train();
        spec.Model.Config = config;
        spec.Model.GateInit = gateInit;

        var violation = Assert.Single(validator.Validate(spec));

        Assert.Equal(field, violation.Field);
    }

    [Fact]
    public void Validate_StudentPresetOfAnotherScheduleThanTheTeacher_IsRefusedNamingBoth()
    {
        var spec = ValidSpecs.Distill();
        spec.Teacher.Preset = "txt2img-ldm";
        spec.Model.Preset = "ldm-churches";

        var violations = validator.Validate(spec);

        var schedule = Assert.Single(violations, v => v.Field == "spec.model.preset");
        Assert.Contains(PresetSchedules.Of("txt2img-ldm").ToString(), schedule.Description);
        Assert.Contains(PresetSchedules.Of("ldm-churches").ToString(), schedule.Description);
    }

    [Fact]
    public void Of_TextPresets_HaveTheStableDiffusionScheduleAndTheirStudentsToo()
    {
        Assert.Equal(DiffusionScheduleSettings.StableDiffusion, PresetSchedules.Of("sd-v1"));
        Assert.Equal(PresetSchedules.Of("sd-v1"), PresetSchedules.Of("sd-v1-sd"));
        Assert.Equal(PresetSchedules.Of("txt2img-ldm"), PresetSchedules.Of("txt2img-sd"));
        Assert.NotEqual(PresetSchedules.Of("ldm-ffhq"), PresetSchedules.Of("ldm-churches"));
    }
}
