using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Shared.Tests.Jobs;

/// <summary>The conditioning block and the caption embeddings of text presets, checked before any worker runs them.</summary>
public class ConditioningSpecTests
{
    readonly JobSpecValidator validator = new(maxWorldSize: 8);

    static JobSpec TextTrain()
    {
        var spec = ValidSpecs.Train();
        spec.Model.Preset = "tiny-txt-ldm";
        spec.Dataset = new DatasetSpec { ImageFolder = new ImageFolderDataset { Path = "images", CaptionEmbeddings = "captions" }, ImageSize = 32 };
        spec.Conditioning = new ConditioningSpec { Dropout = 0.1 };
        return spec;
    }

    [Fact]
    public void Validate_TextPresetWithCaptionedFolder_HasNoViolations()
    {
        Assert.Empty(validator.Validate(TextTrain()));
    }

    [Fact]
    public void Validate_TextPresetOnProceduralImages_NamesCaptionEmbeddings()
    {
        var spec = TextTrain();
        spec.Dataset = new DatasetSpec { Procedural = new ProceduralDataset { Seed = 1, Count = 64 } };

        var violation = Assert.Single(validator.Validate(spec));

        Assert.Equal("spec.dataset.image_folder.caption_embeddings", violation.Field);
        Assert.Contains("(L, 32)", violation.Description);
    }

    [Fact]
    public void Validate_DropoutAboveOne_NamesTheField()
    {
        var spec = TextTrain();
        spec.Conditioning.Dropout = 1.5;

        Assert.Equal("spec.conditioning.dropout", Assert.Single(validator.Validate(spec)).Field);
    }

    [Fact]
    public void Validate_NullContextForAnImagePreset_NamesTheField()
    {
        var spec = ValidSpecs.Train();
        spec.Conditioning = new ConditioningSpec { NullContext = "empty.safetensors" };

        var violation = Assert.Single(validator.Validate(spec));

        Assert.Equal("spec.conditioning.null_context", violation.Field);
        Assert.Contains("reads no captions", violation.Description);
    }

    [Fact]
    public void Validate_TextTeacherForImageStudent_NamesTheTeacher()
    {
        var spec = ValidSpecs.Distill();
        spec.Teacher.Preset = "tiny-txt-ldm";

        var violation = Assert.Single(validator.Validate(spec), v => v.Field == "spec.teacher.preset");

        Assert.Contains("captions", violation.Description);
    }

    [Fact]
    public void Validate_ServerRules_CheckEveryConditioningPath()
    {
        var server = new JobSpecValidator(8, SpecPathRules.Server(["/data"]));
        var spec = TextTrain();
        spec.Dataset.ImageFolder.CaptionEmbeddings = "/home/captions";
        spec.Conditioning.NullContext = "/tmp/empty.safetensors";
        spec.Conditioning.Context = "/root/prompt.safetensors";

        var fields = server.Validate(spec).Where(v => v.Description.Contains("Orchestrator:DataRoots")).Select(v => v.Field);

        Assert.Equal(["spec.dataset.image_folder.caption_embeddings", "spec.conditioning.null_context", "spec.conditioning.context"], fields);
    }

    [Fact]
    public void Parse_ConditioningBlock_ReadsEveryField()
    {
        var spec = JobSpecYaml.Parse("""
            name: t
            type: train
            model: { preset: txt2img-sd }
            dataset: { image_folder: { path: images, caption_embeddings: captions } }
            schedule: { steps: 10 }
            conditioning: { dropout: 0.2, null_context: empty.safetensors, context: prompts.safetensors }
            """);

        Assert.Equal("captions", spec.Dataset.ImageFolder.CaptionEmbeddings);
        Assert.Equal((0.2, "empty.safetensors", "prompts.safetensors"), (spec.Conditioning.Dropout, spec.Conditioning.NullContext, spec.Conditioning.Context));
        Assert.Empty(validator.Validate(spec));
    }
}
