using System.Net;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Playwright;
using SpectralDiffusion.Orchestrator.Tests.Dashboard;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.JobLogs;

/// <summary>
/// The job page's Logs section in Debian's chromium: lines shipped while the page is open appear without a reload, and
/// once the rank fails, the page shows its last lines next to the failure reason; the attempt and rank selectors narrow the
/// lines and keep following. Screenshots under screenshots/dashboard. Its own seeded fixture: the job the first test runs
/// and fails is the fixture's running job; the selector test brings a two-rank job and workers of its own.
/// </summary>
public class JobLogsDashboardTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    [Fact]
    public async Task JobPage_RunningThenFailingRank_LogsFollowLiveAndFailureShowsTheLastLines()
    {
        var start = fixture.RunningStart;
        await ShipAsync(start, ("INF", "Attempt 1 of job started as rank 0/1"));
        var page = await fixture.SignedInPageAsync();
        await page.GotoAsync($"{fixture.Dashboard}/ui/jobs/{fixture.RunningId}");
        await page.WaitForSelectorAsync("#log-lines:has-text('started as rank 0/1')");

        // Shipped while the page is open: the running job's section polls for it.
        await ShipAsync(start, ("WRN", "loss spiked at step 20"), ("ERR", "CUDA error: an illegal memory access was encountered"));
        await page.WaitForSelectorAsync("#log-lines:has-text('illegal memory access')", new PageWaitForSelectorOptions { Timeout = 20_000 });
        await DashboardFixture.ScreenshotAsync(page, "logs-01-live");
        await fixture.Runner.CompleteAsync(start, succeeded: false, error: "rank 0 on worker: CUDA error", failure: FailureKind.Permanent);
        await page.ReloadAsync();
        var failure = await page.InnerTextAsync("#failure-logs");
        await DashboardFixture.ScreenshotAsync(page, "logs-02-failed");
        using var client = DashboardClient.Create(fixture.Dashboard);
        var json = await client.GetStringAsync($"/ui/jobs/{fixture.RunningId}/logs?after=0");
        var unknown = await client.GetAsync($"/ui/jobs/{Guid.NewGuid()}/logs");

        Assert.Contains("Last lines of rank 0 (attempt 1)", failure);
        Assert.Contains("ERR CUDA error: an illegal memory access was encountered", failure);
        Assert.Contains("WRN loss spiked at step 20", failure);
        Assert.Equal("FAILED", (await page.InnerTextAsync("#job-state")).ToUpperInvariant());
        using var document = JsonDocument.Parse(json);
        Assert.Equal(3, document.RootElement.GetProperty("lines").GetArrayLength());
        Assert.True(document.RootElement.GetProperty("ended").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task JobPage_AttemptAndRankSelected_ShowsAndFollowsOnlyThoseLines()
    {
        // Arrange: a two-rank job on two workers of their own (CUDA, so the fixture's CPU jobs never land on them) that
        // failed once and runs its second attempt; every (attempt, rank) has shipped a line.
        await using var a = await FakeWorker.StartAsync(fixture.Server.AsWorker, "logs-filter-a", DeviceKind.Cuda);
        await using var b = await FakeWorker.StartAsync(fixture.Server.AsWorker, "logs-filter-b", DeviceKind.Cuda);
        var spec = Specs.Train(worldSize: 2, maxRestarts: 1, name: "dash-logs-filter");
        spec.Device = DeviceKind.Cuda;
        var job = await new Jobs.JobsClient(fixture.Server.AsSubmitter).SubmitAsync(new SubmitJobRequest { Spec = spec });
        var (firstA, firstB) = (await a.NextStartAsync(), await b.NextStartAsync());
        await ShipAsync(a, firstA, ("INF", $"first attempt rank {firstA.Rank} line"));
        await ShipAsync(b, firstB, ("INF", $"first attempt rank {firstB.Rank} line"));
        await a.CompleteAsync(firstA, succeeded: false, error: "lost a peer", failure: FailureKind.Transient);
        await a.NextAbortAsync();
        await b.NextAbortAsync();
        var (secondA, secondB) = (await a.NextStartAsync(), await b.NextStartAsync());
        var (rank0, rank1) = secondA.Rank == 0 ? ((a, secondA), (b, secondB)) : ((b, secondB), (a, secondA));
        await ShipAsync(rank0.Item1, rank0.Item2, ("INF", "second attempt rank 0 line"));
        await ShipAsync(rank1.Item1, rank1.Item2, ("INF", "second attempt rank 1 line"));
        var page = await fixture.SignedInPageAsync();
        await page.GotoAsync($"{fixture.Dashboard}/ui/jobs/{job.Id}");
        await page.WaitForSelectorAsync("#log-lines:has-text('second attempt rank 1 line')");

        // Act: attempt 2, rank 1; then a line from each rank of attempt 2, rank 0's first.
        await page.SelectOptionAsync("#log-attempt", "2");
        await page.SelectOptionAsync("#log-rank", "1");
        await page.WaitForSelectorAsync("#log-lines:has-text('second attempt rank 1 line')");
        await ShipAsync(rank0.Item1, rank0.Item2, ("WRN", "rank 0 after the selection"));
        await ShipAsync(rank1.Item1, rank1.Item2, ("ERR", "rank 1 after the selection"));
        await page.WaitForSelectorAsync("#log-lines:has-text('rank 1 after the selection')", new PageWaitForSelectorOptions { Timeout = 20_000 });
        var selected = await page.InnerTextAsync("#log-lines");
        var address = page.Url;
        await DashboardFixture.ScreenshotAsync(page, "logs-03-attempt-2-rank-1");
        await page.SelectOptionAsync("#log-attempt", "1");
        await page.SelectOptionAsync("#log-rank", "");
        await page.WaitForSelectorAsync("#log-lines:has-text('first attempt rank 1 line')");
        var firstAttempt = await page.InnerTextAsync("#log-lines");
        using var client = DashboardClient.Create(fixture.Dashboard);
        var unknownRank = await client.GetAsync($"/ui/jobs/{job.Id}/logs?rank=5");

        // Assert
        var selectedLines = selected.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, selectedLines.Length);
        Assert.All(selectedLines, line => Assert.StartsWith("[attempt 2 rank 1] ", line));
        Assert.Contains("rank 1 after the selection", selected);
        Assert.EndsWith("?attempt=2&rank=1", address);
        Assert.Contains("first attempt rank 0 line", firstAttempt);
        Assert.DoesNotContain("second attempt", firstAttempt);
        Assert.Equal(HttpStatusCode.NotFound, unknownRank.StatusCode);
        Assert.Contains("has no rank 5", await unknownRank.Content.ReadAsStringAsync());
        await new Jobs.JobsClient(fixture.Server.AsSubmitter).CancelAsync(new CancelJobRequest { Id = job.Id });
    }

    Task ShipAsync(AssignmentStart start, params (string Level, string Text)[] lines) => ShipAsync(fixture.Runner, start, lines);

    static Task ShipAsync(FakeWorker worker, AssignmentStart start, params (string Level, string Text)[] lines) =>
        worker.Client.ShipLogsAsync(new LogBatch
        {
            WorkerId = worker.Id, JobId = start.JobId, Attempt = start.Attempt, Rank = start.Rank,
            Lines = { lines.Select(l => new ShippedLogLine { Level = l.Level, Text = ByteString.CopyFromUtf8(l.Text), Time = Timestamp.FromDateTime(DateTime.UtcNow) }) },
        }).ResponseAsync;
}
