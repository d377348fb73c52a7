using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Shared.Tests.Jobs;

public class JobSpecYamlTests
{
    const string Distill = """
        name: sd-student
        type: distill
        model: { preset: tiny-sd }
        teacher:
          preset: tiny-ldm
          checkpoint: job:0193f2a4-8c1e-7b7e-9d0a-0f3c5e2a1b4d
        dataset:
          procedural: { seed: 7, count: 256 }
          image_size: 32
        schedule: { steps: 300, batch_size: 32, checkpoint_every: 100 }
        distillation: { lambda_freq: 0.2, feature_taps: [output_blocks.2, output_blocks.5] }
        device: cuda
        world_size: 2
        labels: { team: vision }
        """;

    [Fact]
    public void Parse_FullSpec_MapsEveryKeyToTheProto()
    {
        var spec = JobSpecYaml.Parse(Distill);

        Assert.Equal(JobType.Distill, spec.Type);
        Assert.Equal(DeviceKind.Cuda, spec.Device);
        Assert.Equal("job:0193f2a4-8c1e-7b7e-9d0a-0f3c5e2a1b4d", spec.Teacher.Checkpoint);
        Assert.Equal(256, spec.Dataset.Procedural.Count);
        Assert.Equal(100, spec.Schedule.CheckpointEvery);
        Assert.Equal(0.2, spec.Distillation.LambdaFreq);
        Assert.Equal(["output_blocks.2", "output_blocks.5"], spec.Distillation.FeatureTaps);
        Assert.Equal("vision", spec.Labels["team"]);
        Assert.Empty(new JobSpecValidator(64).Validate(spec));
    }

    [Fact]
    public void Parse_OmittedKeys_TakeDocumentedDefaults()
    {
        var spec = JobSpecYaml.Parse(Distill);

        Assert.Equal(JobSpecDefaults.LearningRate, spec.Optimizer.LearningRate);
        Assert.Equal(JobSpecDefaults.EmaDecay, spec.Optimizer.EmaDecay);
        Assert.Equal(JobSpecDefaults.LambdaSpatial, spec.Distillation.LambdaSpatial);
        Assert.Equal(JobSpecDefaults.FrequencyAlpha, spec.Distillation.Alpha);
        Assert.Equal(JobSpecDefaults.MaxRestarts, spec.MaxRestarts);
        Assert.Equal(JobSpecDefaults.LogEvery, spec.Schedule.LogEvery);
    }

    [Fact]
    public void Parse_MisspelledKey_NamesLineAndSuggestsTheKnownKey()
    {
        var yaml = Distill.Replace("lambda_freq", "lamda_freq");

        var error = Assert.Throws<JobSpecFormatException>(() => JobSpecYaml.Parse(yaml, "job.yaml"));

        Assert.StartsWith("job.yaml:11:", error.Message);
        Assert.Contains("unknown key 'distillation.lamda_freq'", error.Message);
        Assert.Contains("did you mean 'lambda_freq'", error.Message);
    }

    [Theory]
    [InlineData("type: finetune", "type: 'finetune' is not one of train, distill, evaluate")]
    [InlineData("world_size: two", "world_size: 'two' is not an integer")]
    [InlineData("model: tiny-sd", "model: expected a mapping")]
    public void Parse_BadValue_NamesKeyAndExpectedValue(string line, string expected)
    {
        var error = Assert.Throws<JobSpecFormatException>(() => JobSpecYaml.Parse(line));

        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("name: x\ntype: train\nmodel:\n\tpreset: tiny-ldm\n", 4)]
    [InlineData("name: x\ntype: train\nschedule:\n  steps: 10\n\tbatch_size: 4\n", 5)]
    [InlineData("name: x\n\ttype: train\nmodel: { preset: tiny-ldm }\n", 2)]
    [InlineData("name: x\ntype: train\nlabels:\n  a: b\n  c: d\n\t\n  e: f\n", 6)]
    public void Parse_TabIndentation_NamesTheLineOfTheTab(string yaml, int line)
    {
        var error = Assert.Throws<JobSpecFormatException>(() => JobSpecYaml.Parse(yaml, "job.yaml"));

        Assert.StartsWith($"job.yaml:{line}:", error.Message);
        Assert.Contains("tab", error.Message);
    }

    [Fact]
    public void Parse_UnclosedFlowList_FormatErrorNamingTheFile()
    {
        var error = Assert.Throws<JobSpecFormatException>(() => JobSpecYaml.Parse("name: x\nlabels: [a, b\ntype: train\n", "job.yaml"));

        Assert.StartsWith("job.yaml:", error.Message);
        Assert.Contains("not valid YAML", error.Message);
    }

    [Fact]
    public void Apply_OverrideOnTabIndentedFile_NamesTheLineOfTheTab()
    {
        var error = Assert.Throws<JobSpecFormatException>(() =>
            JobSpecOverrides.Apply("name: x\nmodel:\n\tpreset: tiny-ldm\n", ["schedule.steps=5"], "job.yaml"));

        Assert.StartsWith("job.yaml:3:", error.Message);
    }

    [Fact]
    public void Load_MissingFile_NamesThePath()
    {
        var error = Assert.Throws<JobSpecFormatException>(() => JobSpecYaml.Load("/nonexistent/job.yaml"));

        Assert.Contains("/nonexistent/job.yaml", error.Message);
    }
}
