using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Shared.Contracts.V1;
using Xunit.Abstractions;

namespace SpectralDiffusion.EndToEnd.Tests.JobLogs;

/// <summary>
/// Job logs with real processes: a worker agent whose rank fails (a truncated teacher) ships its error line; within
/// seconds of the job failing it is stored, and then <c>orchestrator logs</c> prints it and the job page shows it next
/// to the reason. (The bound is on the line reaching the orchestrator; starting the CLI process is not timed.)
/// </summary>
[Collection(EndToEndCollection.Name)]
public class JobLogsProcessTests(ITestOutputHelper output)
{
    static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(4), VisibleWithin = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task FailingRank_ErrorLine_VisibleThroughTheCliAndOnTheJobPageWithinSeconds()
    {
        await using var cluster = await LocalCluster.StartAsync(output);
        var teacher = TinySpecs.WriteTeacher(cluster.Root);
        var bytes = await File.ReadAllBytesAsync(teacher);
        await File.WriteAllBytesAsync(Path.Combine(cluster.Root, "cut-teacher.safetensors"), bytes[..(bytes.Length / 3)]);
        cluster.StartWorker("worker-a");
        var id = await cluster.SubmitAsync(TinySpecs.Distill("cut-teacher.safetensors", steps: 4, batch: 2, world: 1));

        await cluster.WaitForAsync(id, JobTimeout, JobState.Failed);
        var sinceFailure = Stopwatch.StartNew();
        using var channel = GrpcChannel.ForAddress(cluster.Address);
        var reader = new Shared.Contracts.V1.Logs.LogsClient(channel.Intercept(m => { m.Add("x-api-key", LocalCluster.ApiKey); return m; }));
        while (!(await ReadAsync(reader, id)).Any(l => l.Text.Contains("failed on rank 0")) && sinceFailure.Elapsed < TimeSpan.FromMinutes(1))
            await Task.Delay(100);
        var visibleAfter = sinceFailure.Elapsed;
        output.WriteLine($"error line stored {visibleAfter.TotalSeconds:0.0} s after the job was seen FAILED");
        var cli = await CliAsync(cluster, "logs", id, "--rank", "0");
        using var dashboard = new HttpClient { BaseAddress = new Uri(cluster.DashboardAddress) };
        dashboard.DefaultRequestHeaders.Add("x-api-key", LocalCluster.ApiKey);
        var page = await dashboard.GetStringAsync($"/ui/jobs/{id}");

        var errorLine = cli.Split('\n').Single(l => l.Contains("failed on rank 0"));
        Assert.StartsWith("[attempt 1 rank 0] ", errorLine);
        Assert.Contains(" ERR Attempt 1 of job " + id, errorLine);
        Assert.Contains("cut-teacher.safetensors", cli);
        Assert.Contains("started as rank 0/1", cli);
        Assert.Contains("Last lines of rank 0 (attempt 1)", page);
        Assert.Contains("failed on rank 0", page[page.IndexOf("failure-logs", StringComparison.Ordinal)..]);
        Assert.True(visibleAfter < VisibleWithin, $"the error line took {visibleAfter.TotalSeconds:0.0} s to reach the orchestrator");
    }

    static async Task<List<LogLine>> ReadAsync(Shared.Contracts.V1.Logs.LogsClient reader, string jobId)
    {
        using var call = reader.Read(new ReadLogsRequest { JobId = jobId });
        return await call.ResponseStream.ReadAllAsync().ToListAsync();
    }

    static async Task<string> CliAsync(LocalCluster cluster, params string[] arguments)
    {
        await using var cli = ChildProcess.Start("cli", "orchestrator", [.. arguments, "--address", cluster.Address, "--api-key", LocalCluster.ApiKey]);
        await cli.WaitForExitAsync();
        Assert.True(cli.ExitCode == 0, $"orchestrator {string.Join(' ', arguments)} exited {cli.ExitCode}:\n{cli.Output}");
        return cli.Output;
    }
}
