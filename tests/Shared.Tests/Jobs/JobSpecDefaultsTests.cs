using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Shared.Tests.Jobs;

public class JobSpecDefaultsTests
{
    [Fact]
    public void Apply_MaxRestartsUnset_TakesTheDefault()
    {
        var spec = JobSpecDefaults.Apply(new JobSpec { Type = JobType.Train });

        Assert.Equal(JobSpecDefaults.MaxRestarts, spec.MaxRestarts);
    }

    [Fact]
    public void Apply_MaxRestartsExplicitlyZero_KeepsZero()
    {
        var spec = JobSpecDefaults.Apply(new JobSpec { Type = JobType.Train, MaxRestarts = 0 });

        Assert.Equal(0, spec.MaxRestarts);
    }

    [Fact]
    public void Parse_YamlWithoutMaxRestarts_EqualsRawSpecDefault()
    {
        var yaml = JobSpecYaml.Parse("type: train\nmodel: { preset: tiny-ldm }");
        var raw = JobSpecDefaults.Apply(new JobSpec { Type = JobType.Train });

        Assert.Equal(raw.MaxRestarts, yaml.MaxRestarts);
    }
}
