using System.Text.Json;
using SpectralDiffusion.Orchestrator.Cli;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Cli;

/// <summary>The ops verbs against a real server: <c>list</c> follows the pages the server returns, and every
/// <c>--json</c> output is one JSON document.</summary>
[Collection(ConsoleOutput.Name)]
public class ListAndRunsCommandTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    const int ServerPageLimit = 500;
    readonly OrchestratorServer server = fixture.Server;

    async Task<JsonDocument> RunJsonAsync(params string[] arguments)
    {
        var (exitCode, output) = await ConsoleOutput.CaptureAsync(() =>
            OrchestratorCli.Build().Parse([.. arguments, "--address", server.Address, "--api-key", OrchestratorServer.ReadKey, "--json"]).InvokeAsync());
        Assert.True(exitCode == 0, $"exit code {exitCode}: {output}");
        return JsonDocument.Parse(output);
    }

    [Fact]
    public async Task List_MoreJobsThanOnePage_FollowsPagesUpToTheLimit()
    {
        var jobs = new Jobs.JobsClient(server.AsSubmitter);
        var name = "paging-" + Guid.NewGuid().ToString("N")[..8];
        for (var batch = 0; batch < 6; batch++)
            await Task.WhenAll(Enumerable.Range(0, 85).Select(_ => jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1, name: name) }).ResponseAsync));

        using var all = await RunJsonAsync("list", "--label", "suite=orchestrator-tests", "--limit", "0");
        using var some = await RunJsonAsync("list", "--label", "suite=orchestrator-tests", "--limit", "502");

        Assert.Equal(510, all.RootElement.GetProperty("jobs").EnumerateArray().Count(j => j.GetProperty("spec").GetProperty("name").GetString() == name));
        Assert.False(all.RootElement.TryGetProperty("nextPageToken", out _));
        Assert.Equal(502, some.RootElement.GetProperty("jobs").GetArrayLength());
        Assert.True(some.RootElement.GetProperty("nextPageToken").GetString()!.Length > 0);
        Assert.True(510 > ServerPageLimit);
    }

    [Fact]
    public async Task Runs_Json_IsOneDocumentWithRunsAndEvaluations()
    {
        await new Jobs.JobsClient(server.AsSubmitter).SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1, name: "runs-json") });

        using var document = await RunJsonAsync("runs");

        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        Assert.True(document.RootElement.TryGetProperty("runs", out var runs));
        Assert.True(document.RootElement.TryGetProperty("evaluations", out _));
        Assert.Contains(runs.GetProperty("runs").EnumerateArray(), r => r.GetProperty("name").GetString() == "runs-json");
    }
}
