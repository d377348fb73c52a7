using System.Net;
using System.Text.Json;
using Microsoft.Playwright;

namespace SpectralDiffusion.Orchestrator.Tests.Dashboard;

/// <summary>
/// The job page of a running job follows it without a reload: state, progress, it/s, ETA and curves come from the page's
/// JSON (<c>?handler=live</c>) every two seconds. Screenshots before and after show the page changing while the job runs.
/// </summary>
public class JobLivePageTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    [Fact]
    public async Task JobPage_RunningJobReportsProgress_PageFollowsThenReloadsWhenItEnds()
    {
        // Arrange: the running job's page, with a marker that a reload would wipe.
        var page = await fixture.SignedInPageAsync();
        await page.GotoAsync($"{fixture.Dashboard}/ui/jobs/{fixture.RunningId}");
        await page.EvaluateAsync("() => { window.notReloaded = true; }");
        var pointsBefore = await page.GetAttributeAsync("#metric-charts polyline", "points");
        await DashboardFixture.ScreenshotAsync(page, "06-job-live-before");

        // Act: the worker reports two more steps with new losses.
        await fixture.Runner.ReportAsync(fixture.RunningStart, 20, ("loss", 0.5), ("lr", 1e-3));
        await fixture.Runner.ReportAsync(fixture.RunningStart, 30, ("loss", 0.2), ("lr", 9e-4));
        await page.WaitForSelectorAsync("#job-progress[data-step='30']", new PageWaitForSelectorOptions { Timeout = 20_000 });
        await DashboardFixture.ScreenshotAsync(page, "07-job-live-after");

        // Assert: updated in place, the loss curve has the new points.
        Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"));
        Assert.Contains("30 / 40", await page.InnerTextAsync("#job-progress-text"));
        Assert.NotEqual("—", (await page.InnerTextAsync("#job-eta")).Trim());
        Assert.Equal("10", (await page.InnerTextAsync("#job-rate")).Trim());
        var pointsAfter = await page.GetAttributeAsync("#metric-charts polyline", "points");
        Assert.Single(pointsBefore!.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(3, pointsAfter!.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);

        // Act: the job ends; the page reloads once and shows the final state.
        await fixture.Runner.CompleteAsync(fixture.RunningStart);
        await page.WaitForSelectorAsync("#job-state[data-state='SUCCEEDED']", new PageWaitForSelectorOptions { Timeout = 20_000 });
        await DashboardFixture.ScreenshotAsync(page, "08-job-live-ended");

        Assert.Equal("succeeded", (await page.InnerTextAsync("#job-state")).Trim());
        Assert.Contains("dashboard-worker", await page.InnerTextAsync("#attempts"));
    }

    [Fact]
    public async Task LiveHandler_UnknownJob_404AndKnownJobIsJson()
    {
        using var client = DashboardClient.Create(fixture.Dashboard);

        using var unknown = await client.GetAsync($"/ui/jobs/{Guid.NewGuid()}?handler=live");
        using var known = await client.GetAsync($"/ui/jobs/{fixture.TeacherId}?handler=live");
        using var json = JsonDocument.Parse(await known.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/json", known.Content.Headers.ContentType?.MediaType);
        Assert.Equal("SUCCEEDED", json.RootElement.GetProperty("state").GetString());
        Assert.Equal(40, json.RootElement.GetProperty("step").GetInt64());
        Assert.Equal(5, json.RootElement.GetProperty("charts").GetString()!.Split("<svg").Length - 1);
    }
}
