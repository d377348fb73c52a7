using System.Diagnostics;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Clients;

/// <summary>
/// examples/python/spectral_client.py against a live orchestrator: stubs generated from proto/ at run time with Debian's
/// python3-grpcio and python3-grpc-tools, a YAML spec submitted and watched to its end while a worker runs it, then run history.
/// </summary>
public class PythonClientTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    readonly OrchestratorServer server = fixture.Server;

    [PythonGrpcFact]
    public async Task SubmitWatchHistory_ExampleSpecRunByAWorker_SucceedsAndHistoryListsIt()
    {
        // Arrange: a worker that runs whatever it is given: 4 progress reports, then success.
        await using var worker = await FakeWorker.StartAsync(server.AsWorker, "python-client-worker");
        var runs = Task.Run(async () =>
        {
            var start = await worker.NextStartAsync(TimeSpan.FromSeconds(90));
            for (var step = 10; step <= start.Spec.Schedule.Steps; step += 10)
                await worker.ReportAsync(start, step, ("loss", 1.0 / step), ("lr", 1e-3));
            await worker.CompleteAsync(start);
            return start.JobId;
        });

        // Act
        var submit = await PythonClient.RunAsync(server.Address, OrchestratorServer.SubmitKey,
            "submit", Path.Combine(PythonClient.Repository, "examples/pipeline/teacher.yaml"), "--set", "world_size=1", "--set", "schedule.steps=40", "--watch");
        var ranJob = await runs;
        var history = await PythonClient.RunAsync(server.Address, OrchestratorServer.ReadKey, "history", "--type", "train");

        // Assert
        Assert.True(submit.ExitCode == 0, $"exit {submit.ExitCode}\n{submit.Output}\n{submit.Error}");
        var jobId = submit.Output.Split('\n')[0].Trim();
        Assert.Equal(ranJob, jobId);
        Assert.Contains("succeeded step 40/40", submit.Output);
        var job = await new Jobs.JobsClient(server.AsReader).GetAsync(new GetJobRequest { Id = jobId });
        Assert.Equal((JobState.Succeeded, "tiny-teacher", 1), (job.State, job.Spec.Name, job.Spec.WorldSize));
        Assert.True(history.ExitCode == 0, $"exit {history.ExitCode}\n{history.Output}\n{history.Error}");
        var row = Assert.Single(history.Output.Split('\n'), line => line.StartsWith(jobId));
        Assert.Contains("succeeded", row);
        Assert.Contains("loss=0.025", row);
    }

    [PythonGrpcFact]
    public async Task ArtifactsAndDownload_FinishedJob_ListsThemAndSavesCheckpointWithTheAnnouncedSha256()
    {
        var finished = await FinishedJob.RunAsync(server, "python-artifacts");
        var folder = Directory.CreateTempSubdirectory("python-download-").FullName;
        try
        {
            var listed = await PythonClient.RunAsync(server.Address, OrchestratorServer.ReadKey, "artifacts", finished.JobId);
            var model = await PythonClient.RunAsync(server.Address, OrchestratorServer.ReadKey, "download", finished.JobId, "--out", folder);
            var checkpoint = await PythonClient.RunAsync(server.Address, OrchestratorServer.ReadKey, "download", finished.JobId,
                "--what", "checkpoint:20", "--out", Path.Combine(folder, "whole.safetensors"));
            var unknown = await PythonClient.RunAsync(server.Address, OrchestratorServer.ReadKey, "download", finished.JobId, "--what", "checkpoint:9");

            Assert.True(listed.ExitCode == 0, listed.Error);
            Assert.Contains(listed.Output.Split('\n'), line => line.StartsWith("checkpoint-20/shard-1-of-2.safetensors") && line.Contains(FakeWorker.Sha256(finished.Shard1)));
            Assert.True(model.ExitCode == 0, model.Error);
            Assert.Equal(finished.Model, await File.ReadAllBytesAsync(Path.Combine(folder, "model.safetensors")));
            Assert.True(checkpoint.ExitCode == 0, checkpoint.Error);
            var whole = await File.ReadAllBytesAsync(Path.Combine(folder, "whole.safetensors"));
            Assert.StartsWith(FakeWorker.Sha256(whole), checkpoint.Output);
            Assert.Equal(FinishedJob.Tensors.Keys.Order(), TestShards.Read(whole).Tensors.Keys.Order());
            Assert.Equal(2, unknown.ExitCode);
            Assert.Contains("NOT_FOUND", unknown.Error);
            Assert.Contains("step 9", unknown.Error);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [PythonGrpcFact]
    public async Task Submit_UnknownSpecKeyOrWrongKey_FailsNamingTheProblem()
    {
        var spec = Path.Combine(Path.GetTempPath(), $"python-client-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(spec, "name: x\ntype: train\nschedule: { stepz: 3 }\n");
        try
        {
            var badSpec = await PythonClient.RunAsync(server.Address, OrchestratorServer.SubmitKey, "submit", spec);
            var wrongKey = await PythonClient.RunAsync(server.Address, "not-a-key", "history");

            Assert.NotEqual(0, badSpec.ExitCode);
            Assert.Contains("schedule.stepz: no such field", badSpec.Error);
            Assert.Equal(2, wrongKey.ExitCode);
            Assert.Contains("UNAUTHENTICATED", wrongKey.Error);
        }
        finally { File.Delete(spec); }
    }
}

/// <summary>Runs the example client with Debian's python (SD_PYTHON to override).</summary>
public static class PythonClient
{
    public static string Interpreter => Environment.GetEnvironmentVariable("SD_PYTHON") is { Length: > 0 } path ? path : "/usr/bin/python3";

    public static string Repository { get; } = FindRepository();

    public static string Script => Path.Combine(Repository, "examples", "python", "spectral_client.py");

    /// <summary>Why the client cannot run here, or null.</summary>
    public static string? WhyUnavailable { get; } = FindMissingReason();

    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string address, string apiKey, params string[] arguments)
    {
        var start = new ProcessStartInfo(Interpreter) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Script);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["SD_ORCHESTRATOR"] = address;
        start.Environment["SD_API_KEY"] = apiKey;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Script} {string.Join(' ', arguments)} did not finish in 3 minutes: {await output}");
        }
        return (process.ExitCode, await output, await error);
    }

    static string? FindMissingReason()
    {
        if (!File.Exists(Interpreter)) return $"{Interpreter} does not exist (set SD_PYTHON)";
        try
        {
            var start = new ProcessStartInfo(Interpreter, ["-c", "import grpc, grpc_tools.protoc, yaml"]) { RedirectStandardError = true };
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? null
                : $"{Interpreter} cannot import grpc, grpc_tools and yaml (apt-get install python3-grpcio python3-grpc-tools python3-yaml): {error.Trim().Split('\n').LastOrDefault()}";
        }
        catch (Exception e) { return $"{Interpreter} could not be started: {e.Message}"; }
    }

    static string FindRepository()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "Orchestrator.sln"))) return directory.FullName;
        throw new DirectoryNotFoundException("repository root (Orchestrator.sln) not found above the test output");
    }
}

/// <summary>A fact that needs Debian's python3-grpcio and python3-grpc-tools; skipped with the reason where they are missing.</summary>
public sealed class PythonGrpcFactAttribute : FactAttribute
{
    public PythonGrpcFactAttribute()
    {
        if (PythonClient.WhyUnavailable is { } reason) Skip = reason;
    }
}
