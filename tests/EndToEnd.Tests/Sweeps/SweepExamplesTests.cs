using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Shared.Sweeps;

namespace SpectralDiffusion.EndToEnd.Tests.Sweeps;

/// <summary>The sweeps under examples/ and bench/ read and expand as their comments say.</summary>
public class SweepExamplesTests
{
    [Theory]
    [InlineData("examples/sweeps/table5.yaml", 9, 27)]
    [InlineData("examples/sweeps/lite-vs-sd.yaml", 4, 12)]
    [InlineData("bench/experiment/sweep.yaml", 5, 15)]
    public void Example_Expands_ToItsArmsAndJobs(string file, int arms, int jobs)
    {
        var spec = SweepSpecYaml.Load(Path.Combine(RepositoryRoot.Path, file));

        var expanded = SweepExpansion.Expand(spec, 256, new JobSpecValidator(JobSpecValidator.DefaultMaxWorldSize));

        Assert.Equal(arms, expanded.Arms.Count);
        Assert.Equal(jobs, expanded.Jobs.Count);
    }
}
