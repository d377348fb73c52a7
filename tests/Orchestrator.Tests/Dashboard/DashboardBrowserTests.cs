using Microsoft.Playwright;

namespace SpectralDiffusion.Orchestrator.Tests.Dashboard;

/// <summary>
/// The dashboard in headless chromium against a real orchestrator and database with seeded runs. Every page visited is
/// saved as a screenshot under <see cref="DashboardFixture.ScreenshotFolder"/> (the test output's screenshots/dashboard).
/// </summary>
public class DashboardBrowserTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    [Fact]
    public async Task Login_WithReadKey_ShowsEverySeededJob()
    {
        // Arrange: a browser with no session lands on the login page.
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.Dashboard + "/ui");
        var landedOn = new Uri(page.Url).AbsolutePath;
        await DashboardFixture.ScreenshotAsync(page, "01-login");

        // Act
        await page.FillAsync("#key", OrchestratorServer.ReadKey);
        await page.ClickAsync("#sign-in");
        await page.WaitForSelectorAsync("#jobs");
        await DashboardFixture.ScreenshotAsync(page, "02-jobs");

        // Assert
        Assert.Equal("/ui/login", landedOn);
        Assert.Equal("/ui", new Uri(page.Url).AbsolutePath);
        foreach (var id in new[] { fixture.TeacherId, fixture.BaselineId, fixture.TeacherEvaluationId, fixture.RunningId, fixture.QueuedId })
            Assert.Equal(1, await page.Locator($"tr[data-job='{id}']").CountAsync());
        Assert.Equal("RUNNING", await page.GetAttributeAsync($"tr[data-job='{fixture.RunningId}']", "data-state"));
    }

    [Fact]
    public async Task JobsPage_RunningJobReportsProgress_RowUpdatesWithoutReload()
    {
        // Arrange: the list open, with a marker that a reload would wipe.
        var page = await fixture.SignedInPageAsync();
        await page.EvaluateAsync("() => { window.notReloaded = true; }");
        var progress = $"tr[data-job='{fixture.RunningId}'] td.progress";
        var before = await page.GetAttributeAsync(progress, "data-step");

        // Act: the worker reports further progress.
        await fixture.Runner.ReportAsync(fixture.RunningStart, 30, ("loss", 0.3), ("lr", 9e-4));
        await page.WaitForSelectorAsync(progress + "[data-step='30']", new PageWaitForSelectorOptions { Timeout = 20_000 });
        await DashboardFixture.ScreenshotAsync(page, "03-jobs-live");

        // Assert
        Assert.NotEqual("30", before);
        Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"));
        Assert.Contains("30 / 40", await page.InnerTextAsync(progress));
        Assert.NotEqual("—", (await page.InnerTextAsync($"tr[data-job='{fixture.RunningId}'] td.eta")).Trim());
    }

    [Fact]
    public async Task JobPage_FinishedEvaluation_SampleGridAndPlotsLoadUpscaled()
    {
        // Arrange
        var page = await fixture.SignedInPageAsync();

        // Act
        await page.GotoAsync($"{fixture.Dashboard}/ui/jobs/{fixture.TeacherEvaluationId}");
        await page.WaitForFunctionAsync("() => ['sample-grid', 'gate-plot', 'spectrum-plot'].every(id => { const i = document.getElementById(id); return i && i.complete && i.naturalWidth > 0; })",
            null, new PageWaitForFunctionOptions { Timeout = 20_000 });
        await DashboardFixture.ScreenshotAsync(page, "04-evaluation");

        // Assert: the pictures came from the artifact store, the grid scaled up by a whole factor.
        var grid = await page.EvaluateAsync<int[]>("() => { const i = document.getElementById('sample-grid'); return [i.naturalWidth, i.naturalHeight, i.width]; }");
        Assert.Equal([32, 32], grid[..2]);
        Assert.True(grid[2] >= 4 * grid[0] && grid[2] % grid[0] == 0, $"sample grid shown {grid[2]} px wide from {grid[0]} px");
        Assert.Equal(320, await page.EvaluateAsync<int>("() => document.getElementById('gate-plot').naturalWidth"));
        Assert.Contains("31.50", await page.InnerTextAsync("#evaluation"));
        Assert.Contains("1.60M", await page.InnerTextAsync("#evaluation"));
        Assert.Contains("model:", await page.InnerTextAsync("#spec-yaml"));
        Assert.Equal($"/ui/jobs/{fixture.TeacherId}", await page.GetAttributeAsync("a.model-job", "href"));
    }

    [Fact]
    public async Task JobPage_FinishedTraining_ShowsCurvesAttemptsAndCheckpoints()
    {
        var page = await fixture.SignedInPageAsync();

        await page.GotoAsync($"{fixture.Dashboard}/ui/jobs/{fixture.TeacherId}");
        await DashboardFixture.ScreenshotAsync(page, "05-training");

        var charts = await page.Locator("#metric-charts svg").AllAsync();
        var titles = await Task.WhenAll(charts.Select(c => c.GetAttributeAsync("aria-label")));
        Assert.Equal(["loss", "loss_ddpm", "loss_freq", "lr", "it/s"], titles.Select(t => t ?? ""));
        Assert.Equal(5, await page.Locator("#metric-charts polyline").CountAsync());
        Assert.Contains("dashboard-worker", await page.InnerTextAsync("#attempts"));
        Assert.Contains("40", await page.InnerTextAsync("#checkpoints"));
        Assert.Contains("type: train", await page.InnerTextAsync("#spec-yaml"));
    }

    [Fact]
    public async Task ComparePage_PickTwoRuns_TableAndOverlaidCurves()
    {
        // Arrange
        var page = await fixture.SignedInPageAsync();
        await page.GotoAsync(fixture.Dashboard + "/ui/compare");

        // Act: pick the two training runs in the form.
        await page.CheckAsync($"#pick-{fixture.TeacherId}");
        await page.CheckAsync($"#pick-{fixture.BaselineId}");
        await page.ClickAsync("#compare");
        await page.WaitForSelectorAsync("#comparison");
        await DashboardFixture.ScreenshotAsync(page, "06-compare");

        // Assert: each run joined to its evaluation; one chart per metric with a line per run.
        var teacher = page.Locator($"#comparison tr[data-job='{fixture.TeacherId}']");
        var baseline = page.Locator($"#comparison tr[data-job='{fixture.BaselineId}']");
        Assert.Equal(("1.60M", "210.00M", "31.50", "40"), (await teacher.Locator(".params").InnerTextAsync(), await teacher.Locator(".macs").InnerTextAsync(),
            await teacher.Locator(".fid").InnerTextAsync(), await teacher.Locator(".steps").InnerTextAsync()));
        Assert.Equal(("410.00k", "44.25", "3.5"), (await baseline.Locator(".params").InnerTextAsync(), await baseline.Locator(".fid").InnerTextAsync(),
            await baseline.Locator(".hf-ratio").InnerTextAsync()));
        var lossChart = page.Locator("#overlaid-charts svg[aria-label='loss']");
        Assert.Equal(2, await lossChart.Locator("polyline").CountAsync());
        Assert.Contains("dash-baseline", await lossChart.TextContentAsync());
    }

    [Fact]
    public async Task WorkersPage_ShowsDeviceStateHeartbeatAndCurrentJob()
    {
        var page = await fixture.SignedInPageAsync();

        await page.GotoAsync(fixture.Dashboard + "/ui/workers");
        await DashboardFixture.ScreenshotAsync(page, "07-workers");

        var row = await page.InnerTextAsync($"tr[data-worker='{fixture.Runner.Id}']");
        Assert.Contains("cpu:0", row);
        Assert.Contains("busy", row);
        Assert.Contains("dash-running", row);
        Assert.Contains("ago", row);
    }

    [Fact]
    public async Task WrongKey_LoginRefusedAndNoPageShowsData()
    {
        // Arrange
        var page = await fixture.NewPageAsync();
        var names = new[] { "dash-teacher", "dash-baseline", "dash-running", "dashboard-worker" };

        // Act: a wrong key in the form, then straight to a job, the workers and a file with no session.
        await page.GotoAsync($"{fixture.Dashboard}/ui/jobs/{fixture.TeacherId}");
        await page.FillAsync("#key", "not-a-key");
        await page.ClickAsync("#sign-in");
        var error = await page.InnerTextAsync("#login-error");
        await DashboardFixture.ScreenshotAsync(page, "08-wrong-key");
        var visited = new List<(string Path, string Content)> { (new Uri(page.Url).AbsolutePath, await page.ContentAsync()) };
        foreach (var path in new[] { $"/ui/jobs/{fixture.TeacherId}", "/ui/workers", $"/ui/compare?ids={fixture.TeacherId}", $"/ui/files/{fixture.TeacherEvaluationId}/samples.png" })
        {
            await page.GotoAsync(fixture.Dashboard + path);
            visited.Add((new Uri(page.Url).AbsolutePath, await page.ContentAsync()));
        }
        var header = await page.APIRequest.GetAsync(fixture.Dashboard + "/ui", new APIRequestContextOptions { Headers = new Dictionary<string, string> { ["x-api-key"] = "wrong" } });
        var headerBody = await header.TextAsync();

        // Assert
        Assert.Contains("not valid", error);
        Assert.All(visited, v => Assert.Equal("/ui/login", v.Path));
        Assert.All(visited, v => Assert.DoesNotContain(names, name => v.Content.Contains(name)));
        Assert.Equal("/ui/login", new Uri(header.Url).AbsolutePath);
        Assert.DoesNotContain(names, name => headerBody.Contains(name));
    }
}
