using SpectralDiffusion.Orchestrator.Cli;
using SpectralDiffusion.Orchestrator.Tests.Cli;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Clients;

/// <summary>The CLI and the Python client given a standby's address first and the active one's second: they answer from the active one.</summary>
[Collection(ConsoleOutput.Name)]
public class StandbyClientTests
{
    [Fact]
    public async Task List_StandbyAddressFirst_AnswersFromTheActive()
    {
        // Arrange
        await using var database = await TestDatabase.CreateFreshAsync();
        await using var active = await OrchestratorServer.StartAsync(database);
        await using var standby = await OrchestratorServer.StartAsync(database);
        var job = await new Jobs.JobsClient(active.AsSubmitter).SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(name: "behind-a-standby") });

        // Act
        var (exitCode, output) = await ConsoleOutput.CaptureAsync(() => OrchestratorCli.Build()
            .Parse(["list", "--address", $"{standby.Address},{active.Address}", "--api-key", OrchestratorServer.ReadKey, "--json"]).InvokeAsync());

        // Assert
        Assert.True(exitCode == 0, $"exit code {exitCode}: {output}");
        Assert.Contains(job.Id, output);
    }

    [PythonGrpcFact]
    public async Task History_StandbyAddressFirst_PythonClientAnswersFromTheActive()
    {
        // Arrange
        await using var database = await TestDatabase.CreateFreshAsync();
        await using var active = await OrchestratorServer.StartAsync(database);
        await using var standby = await OrchestratorServer.StartAsync(database);

        // Act
        var history = await PythonClient.RunAsync($"{standby.Address},{active.Address}", OrchestratorServer.ReadKey, "history");

        // Assert
        Assert.True(history.ExitCode == 0, $"exit {history.ExitCode}\n{history.Output}\n{history.Error}");
        Assert.StartsWith("job ", history.Output);
    }
}
