using SpectralDiffusion.Orchestrator.Cli;

namespace SpectralDiffusion.Orchestrator.Tests.Cli;

/// <summary>Every verb takes the orchestrator address as host:port or as an http(s) URL, and a bad one is a usage error.</summary>
public class AddressOptionTests
{
    [Fact]
    public void CliContext_HostPortAddress_BuildsAChannel()
    {
        var context = new CliContext("127.0.0.1:5080", apiKey: null, json: false);

        Assert.NotNull(context.Jobs);
    }

    [Fact]
    public async Task Invoke_AddressWithAnotherScheme_ExitsWithUsageErrorWithoutCallingAnything()
    {
        var exitCode = await OrchestratorCli.Build().Parse(["list", "--address", "ftp://127.0.0.1:5080"]).InvokeAsync();

        Assert.Equal(2, exitCode);
    }
}
