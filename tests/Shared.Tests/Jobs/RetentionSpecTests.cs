using Google.Protobuf;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Shared.Tests.Jobs;

public class RetentionSpecTests
{
    readonly JobSpecValidator validator = new(maxWorldSize: 8);

    [Fact]
    public void Validate_NegativeKeepCheckpoints_NamesTheField()
    {
        var spec = ValidSpecs.Train();
        spec.Retention = new RetentionSpec { KeepCheckpoints = -1 };

        var violation = Assert.Single(validator.Validate(spec));

        Assert.Equal("spec.retention.keep_checkpoints", violation.Field);
    }

    [Fact]
    public void Parse_YamlRetentionBlock_SetsOnlyTheFieldsGiven()
    {
        var spec = JobSpecYaml.Parse("""
            name: kept
            type: train
            model: { preset: tiny-ldm }
            dataset: { procedural: { seed: 1, count: 8 } }
            retention: { keep_checkpoints: 0, keep_evaluation_files: false }
            """);

        Assert.True(spec.Retention.HasKeepCheckpoints);
        Assert.Equal(0, spec.Retention.KeepCheckpoints);
        Assert.False(spec.Retention.HasKeepFinalModel);
        Assert.True(spec.Retention.HasKeepEvaluationFiles);
        Assert.DoesNotContain(validator.Validate(spec), v => v.Field.StartsWith("spec.retention", StringComparison.Ordinal));
    }

    [Fact]
    public void Format_RetentionFieldsSetToTheirZeroValue_AppearInTheStoredJson()
    {
        // The orchestrator reads a job's policy from its stored JSON: a field set to 0 or false must be there, not left out.
        var spec = ValidSpecs.Train();
        spec.Retention = new RetentionSpec { KeepCheckpoints = 0, KeepFinalModel = false };

        var json = JsonFormatter.Default.Format(spec);

        Assert.Contains("\"keepCheckpoints\": 0", json);
        Assert.Contains("\"keepFinalModel\": false", json);
        Assert.DoesNotContain("keepEvaluationFiles", json);
    }
}
