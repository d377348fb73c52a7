using System.Diagnostics;
using System.Text;

namespace SpectralDiffusion.Worker.Tests.Distributed;

/// <summary>
/// The tcp ring and the shared-memory group (copying, and in place in registered memory) between real worker processes
/// (the built worker.dll beside this test assembly), via the hidden selftest verb.
/// </summary>
public sealed class WorkerProcessCollectiveTests : IDisposable
{
    readonly string rendezvous = Path.Combine(Path.GetTempPath(), $"sd-procs-{Guid.NewGuid():N}");
    readonly List<Process> started = [];

    sealed record Rank(Process Process, StringBuilder Output, TaskCompletionSource Progress);

    Rank Start(int rank, int world, string extra)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in $"{Path.Combine(AppContext.BaseDirectory, "worker.dll")} collective selftest --rank {rank} --world {world} --rendezvous {rendezvous} {extra}".Split(' ', StringSplitOptions.RemoveEmptyEntries))
            info.ArgumentList.Add(argument);
        var process = Process.Start(info)!;
        started.Add(process);
        var output = new StringBuilder();
        var progress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Append(string? line)
        {
            if (line is null) return;
            lock (output) output.AppendLine(line);
            if (line.Contains("all-reduce #3 ")) progress.TrySetResult();
        }
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new Rank(process, output, progress);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task Selftest_TwoWorkerProcesses_AllReduceIsExactOnBoth(bool sharedMemory, bool registered)
    {
        // Arrange + Act
        var ranks = Enumerable.Range(0, 2).Select(rank => Start(rank, 2, $"--repeat 2 --elements 100003 {Transport(sharedMemory, registered)}")).ToArray();
        await Task.WhenAll(ranks.Select(r => r.Process.WaitForExitAsync())).WaitAsync(TimeSpan.FromSeconds(120));

        // Assert
        foreach (var rank in ranks)
        {
            Assert.True(rank.Process.ExitCode == 0, rank.Output.ToString());
            Assert.Contains("all-reduce #2 of 100003 int64 exact", rank.Output.ToString());
            Assert.Contains(sharedMemory ? "shared memory connected" : "ring connected", rank.Output.ToString());
            Assert.Equal(registered, rank.Output.ToString().Contains("all-reducing in registered memory"));
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task Selftest_PeerKilledWithSigkill_SurvivorFailsNamingItInsteadOfHanging(bool sharedMemory, bool registered)
    {
        // Arrange: both ranks loop over all-reduces with a 20 s timeout.
        var ranks = Enumerable.Range(0, 2).Select(rank => Start(rank, 2, $"--repeat 1000000 --elements 1000003 --timeout-s 20 {Transport(sharedMemory, registered)}")).ToArray();
        await ranks[1].Progress.Task.WaitAsync(TimeSpan.FromSeconds(120));

        // Act: SIGKILL rank 1 mid-run.
        ranks[1].Process.Kill();
        await ranks[0].Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));

        // Assert: the survivor reported a collective failure naming rank 1.
        var output = ranks[0].Output.ToString();
        Assert.True(ranks[0].Process.ExitCode == 3, output);
        Assert.Contains("collective failed", output);
        Assert.Contains("rank 1", output);
    }

    static string Transport(bool sharedMemory, bool registered) => (sharedMemory ? "--shared-memory" : "") + (registered ? " --registered" : "");

    public void Dispose()
    {
        foreach (var process in started)
        {
            if (!process.HasExited) process.Kill();
            process.Dispose();
        }
        if (Directory.Exists(rendezvous)) Directory.Delete(rendezvous, recursive: true);
    }
}
