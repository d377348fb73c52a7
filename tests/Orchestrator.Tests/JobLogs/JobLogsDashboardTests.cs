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
/// once the rank fails, the page shows its last lines next to the failure reason. Screenshots under screenshots/dashboard.
/// Its own seeded fixture: the job it runs and fails is the fixture's running job.
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

    Task ShipAsync(AssignmentStart start, params (string Level, string Text)[] lines) =>
        fixture.Runner.Client.ShipLogsAsync(new LogBatch
        {
            WorkerId = fixture.Runner.Id, JobId = start.JobId, Attempt = start.Attempt, Rank = start.Rank,
            Lines = { lines.Select(l => new ShippedLogLine { Level = l.Level, Text = ByteString.CopyFromUtf8(l.Text), Time = Timestamp.FromDateTime(DateTime.UtcNow) }) },
        }).ResponseAsync;
}
