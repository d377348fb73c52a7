using System.Text.Json;
using SpectralDiffusion.Orchestrator.Cli;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Tests.Cli;

/// <summary>The ops verbs against a real server: <c>list</c> follows the pages the server returns, every <c>--json</c>
/// output is one JSON document, and a job's spec goes out as YAML and comes back in as a new job.</summary>
[Collection(ConsoleOutput.Name)]
public class OpsVerbTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    readonly OrchestratorServer server = fixture.Server;

    async Task<string> RunAsync(string apiKey, params string[] arguments)
    {
        var (exitCode, output) = await ConsoleOutput.CaptureAsync(() =>
            OrchestratorCli.Build().Parse([.. arguments, "--address", server.Address, "--api-key", apiKey]).InvokeAsync());
        Assert.True(exitCode == 0, $"exit code {exitCode}: {output}");
        return output;
    }

    async Task<JsonDocument> RunJsonAsync(params string[] arguments) =>
        JsonDocument.Parse(await RunAsync(OrchestratorServer.ReadKey, [.. arguments, "--json"]));

    [Fact]
    public async Task List_MoreJobsThanOnePage_FollowsPagesUpToTheLimit()
    {
        // 510 jobs: more than one page of the server's largest page (500).
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

    [Fact]
    public async Task ShowYaml_ThenResubmitWithOverride_NewJobWithTheSameSpecButTheOverride()
    {
        var jobs = new Jobs.JobsClient(server.AsSubmitter);
        var original = await jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 2, name: "resubmit-me") });

        var yaml = await RunAsync(OrchestratorServer.ReadKey, "show", original.Id, "--yaml");
        using var resubmitted = JsonDocument.Parse(await RunAsync(OrchestratorServer.SubmitKey, "resubmit", original.Id, "--set", "schedule.seed=9", "--json"));

        Assert.Equal(original.Spec, JobSpecYaml.Parse(yaml));
        var copy = await jobs.GetAsync(new GetJobRequest { Id = resubmitted.RootElement.GetProperty("id").GetString()! });
        Assert.NotEqual(original.Id, copy.Id);
        Assert.Equal(9, copy.Spec.Schedule.Seed);
        copy.Spec.Schedule.Seed = original.Spec.Schedule.Seed;
        Assert.Equal(original.Spec, copy.Spec);
    }
}
