using SpectralDiffusion.Orchestrator.Dashboard;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Tests.Dashboard;

public class SpecYamlTests
{
    [Fact]
    public void From_SpecWithMapsEnumsAndAwkwardStrings_ParsesBackToTheSameSpec()
    {
        // Arrange: every kind of field the page must write, and strings YAML would misread unquoted.
        var spec = Specs.Train(worldSize: 2, maxRestarts: 3, name: "yes");
        spec.Type = JobType.Evaluate;
        spec.Model.Checkpoint = "job:0190c0de-0000-7000-8000-000000000001";
        spec.Evaluation = new EvaluationSpec { NumSamples = 16, DdimSteps = 10, Eta = 0.5 };
        spec.Labels["note"] = "a: b # c";
        spec.Labels["count"] = "007";
        spec.Labels["empty"] = "";

        // Act
        var yaml = SpecYaml.From(spec);
        var parsed = JobSpecYaml.Parse(yaml);

        // Assert: the same spec, once the parser's documented defaults are filled in (stored specs have them already).
        Assert.Contains("type: evaluate", yaml);
        Assert.Contains("device: cpu", yaml);
        Assert.Equal(JobSpecDefaults.Apply(spec.Clone()), parsed);
    }
}
