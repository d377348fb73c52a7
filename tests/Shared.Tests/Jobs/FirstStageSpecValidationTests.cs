using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Shared.Tests.Jobs;

public class FirstStageSpecValidationTests
{
    readonly JobSpecValidator validator = new(maxWorldSize: 8);

    static JobSpec Latent(JobSpec spec, string config = "tiny-kl", string checkpoint = "first-stage.safetensors")
    {
        spec.FirstStage = new FirstStageSpec { Config = config, Checkpoint = checkpoint };
        spec.Dataset.ImageSize = 64;
        return spec;
    }

    [Fact]
    public void Validate_LatentSpecsOfEveryType_HaveNoViolations()
    {
        Assert.Empty(validator.Validate(Latent(ValidSpecs.Train())));
        Assert.Empty(validator.Validate(Latent(ValidSpecs.Distill())));
        Assert.Empty(validator.Validate(Latent(ValidSpecs.Evaluate())));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.5)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Validate_BadScaleFactor_NamesTheField(double scale)
    {
        var spec = Latent(ValidSpecs.Train());
        spec.FirstStage.ScaleFactor = scale;

        var violations = validator.Validate(spec);

        Assert.NotEmpty(violations);
        Assert.All(violations, v => Assert.Equal("spec.first_stage.scale_factor", v.Field));
        Assert.Contains(violations, v => v.Description.Contains("finite"));
    }

    [Fact]
    public void Validate_LatentChannelsNotMatchingInChannels_NamesBothSides()
    {
        var spec = Latent(ValidSpecs.Train(), config: "kl-f8");
        spec.Dataset.ImageSize = 256;

        var violation = Assert.Single(validator.Validate(spec));

        Assert.Equal("spec.model.preset", violation.Field);
        Assert.Contains("3-channel inputs", violation.Description);
        Assert.Contains("'kl-f8' gives 4-channel latents", violation.Description);
    }

    [Fact]
    public void Validate_PixelImageSizeOnLatentJob_AsksForTheLatentTimesFactor()
    {
        var spec = Latent(ValidSpecs.Train());
        spec.Dataset.ImageSize = 32;

        var violation = Assert.Single(validator.Validate(spec));

        Assert.Equal("spec.dataset.image_size", violation.Field);
        Assert.Contains("64×64 images", violation.Description);
        Assert.Contains("first stage 'tiny-kl'", violation.Description);
    }

    [Theory]
    [InlineData("kl-f9", "", "spec.first_stage.config", "did you mean")]
    [InlineData("", "x.ckpt", "spec.first_stage.config", "required")]
    [InlineData("tiny-kl", "", "spec.first_stage.checkpoint", "required")]
    [InlineData("tiny-kl", "job:7b7f6b5e-3c9e-4a53-9d43-0a4f5f3f6c11", "spec.first_stage.checkpoint", "must be a path")]
    [InlineData("tiny-kl", "../outside.ckpt", "spec.first_stage.checkpoint", "..")]
    public void Validate_BadFirstStage_NamesTheField(string config, string checkpoint, string field, string word)
    {
        var spec = Latent(ValidSpecs.Train(), config, checkpoint);

        var violations = validator.Validate(spec);

        Assert.Contains(violations, v => v.Field == field && v.Description.Contains(word));
    }

    [Fact]
    public void Parse_YamlFirstStageBlock_ReadsEveryField()
    {
        var spec = JobSpecYaml.Parse("""
            name: latent
            type: train
            model: { preset: tiny-ldm }
            first_stage: { config: kl-f8, checkpoint: models/ldm.ckpt, scale_factor: 0.18215 }
            dataset: { procedural: { seed: 1, count: 8 } }
            """);

        Assert.Equal("kl-f8", spec.FirstStage.Config);
        Assert.Equal("models/ldm.ckpt", spec.FirstStage.Checkpoint);
        Assert.True(spec.FirstStage.HasScaleFactor);
        Assert.Equal(0.18215, spec.FirstStage.ScaleFactor);
    }
}
