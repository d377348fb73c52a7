using System.Diagnostics;
using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Shared.Contracts.V1;
using Xunit.Abstractions;

namespace SpectralDiffusion.EndToEnd.Tests.Pipeline;

/// <summary>
/// A user takes a trained model out: a job trained by a worker process is downloaded with a read key by the
/// <c>orchestrator download</c> CLI and by the Python client, and each copy samples in <c>worker sample</c> exactly as the
/// worker's own copy does.
/// </summary>
[Collection(EndToEndCollection.Name)]
public class ArtifactDownloadTests(ITestOutputHelper output)
{
    static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(3);
    static readonly Dictionary<string, string> OneThread = new() { ["OMP_NUM_THREADS"] = "1" };

    [Fact]
    public async Task Download_TrainedModelByCliAndPython_SamplesAsTheWorkersOwnCopy()
    {
        // Arrange: one worker trains a tiny model through the orchestrator.
        await using var cluster = await LocalCluster.StartAsync(output);
        cluster.StartWorker("worker-a");
        var jobId = await cluster.SubmitAsync(TinySpecs.Train("tiny-ldm", steps: 4, batch: 4, world: 1));
        await cluster.WaitForAsync(jobId, JobTimeout, JobState.Succeeded);
        var downloads = Directory.CreateDirectory(Path.Combine(cluster.Root, "user")).FullName;
        var workersCopy = Directory.GetFiles(Path.Combine(cluster.Root, "worker-a", "jobs", jobId), "model-ema.safetensors", SearchOption.AllDirectories).Single();

        // Act: download with the read key, then sample each copy with the same seed.
        var cli = await RunAsync("orchestrator", ["download", jobId, "--what", "model", "--out", Path.Combine(downloads, "cli.safetensors"),
            "--address", cluster.Address, "--api-key", LocalCluster.ReadKey]);
        var python = await RunPythonAsync(["--address", cluster.Address, "--api-key", LocalCluster.ReadKey,
            "download", jobId, "--out", Path.Combine(downloads, "python.safetensors")]);
        var samples = new Dictionary<string, byte[]>();
        foreach (var (name, model) in new[] { ("worker", workersCopy), ("cli", Path.Combine(downloads, "cli.safetensors")), ("python", Path.Combine(downloads, "python.safetensors")) })
        {
            var folder = Path.Combine(downloads, "samples-" + name);
            var sampled = await RunAsync("worker", ["sample", "--checkpoint", model, "--num", "4", "--batch", "4", "--steps", "5", "--seed", "11", "--out", folder]);
            Assert.True(sampled.ExitCode == 0, $"worker sample of the {name} copy: exit {sampled.ExitCode}\n{sampled.Output}");
            samples[name] = await File.ReadAllBytesAsync(Path.Combine(folder, "grid.png"));
        }

        // Assert
        Assert.True(cli.ExitCode == 0, $"orchestrator download: exit {cli.ExitCode}\n{cli.Output}");
        Assert.True(python.ExitCode == 0, $"spectral_client.py download: exit {python.ExitCode}\n{python.Output}");
        var job = await cluster.GetJobAsync(jobId);
        Assert.Equal(job.ResultArtifact, "artifact:" + Sha256(Path.Combine(downloads, "cli.safetensors")));
        Assert.Equal(Sha256(workersCopy), Sha256(Path.Combine(downloads, "python.safetensors")));
        Assert.Equal(samples["worker"], samples["cli"]);
        Assert.Equal(samples["worker"], samples["python"]);
    }

    static async Task<(int ExitCode, string Output)> RunAsync(string executable, string[] arguments)
    {
        await using var process = ChildProcess.Start(executable, executable, arguments, OneThread);
        await process.WaitForExitAsync();
        return (process.ExitCode, process.Output);
    }

    static async Task<(int ExitCode, string Output)> RunPythonAsync(string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("SD_PYTHON") is { Length: > 0 } python ? python : "/usr/bin/python3")
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot.Path, "examples", "python", "spectral_client.py"));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var (stdout, stderr) = (process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }
}
