using SpectralDiffusion.Orchestrator.Cli;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Cli;

public class EnumOptionTests
{
    [Theory]
    [InlineData("list", "--state", "queued, scheduled, running, succeeded, failed, cancelled")]
    [InlineData("list", "--type", "train, distill, evaluate")]
    [InlineData("runs", "--type", "train, distill, evaluate")]
    public void Parse_UnknownEnumName_ErrorListsValidNamesWithoutTypeName(string verb, string option, string valid)
    {
        var result = OrchestratorCli.Build().Parse([verb, option, "bogus"]);

        var error = Assert.Single(result.Errors);
        Assert.Contains($"{option} 'bogus'", error.Message);
        Assert.Contains(valid, error.Message);
        Assert.DoesNotContain("SpectralDiffusion", error.Message);
    }

    [Fact]
    public void Parse_MisspelledState_SuggestsTheClosest()
    {
        var result = OrchestratorCli.Build().Parse(["list", "--state", "runing"]);

        Assert.Contains("did you mean 'running'", Assert.Single(result.Errors).Message);
    }

    [Fact]
    public void Parse_SeveralStatesAnyCase_AllTaken()
    {
        var command = ListCommand.Create();

        var result = command.Parse(["--state", "Running", "--state", "failed"]);

        Assert.Empty(result.Errors);
        var states = result.GetValue<JobState[]>("--state");
        Assert.Equal([JobState.Running, JobState.Failed], states);
    }
}
