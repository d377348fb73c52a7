using System.Net;
using System.Text.RegularExpressions;

namespace SpectralDiffusion.Orchestrator.Tests.Dashboard;

/// <summary>
/// The sweep pages over HTTP against a sweep run to its end through the worker protocol: the list, the report (numbers
/// checked against values computed by hand from what the fixture's jobs reported), the sweep's jobs, and the job page's
/// link back to its sweep.
/// </summary>
public class DashboardSweepTests(SweepDashboardFixture fixture) : IClassFixture<SweepDashboardFixture>
{
    HttpClient Client(string? key = OrchestratorServer.ReadKey) => DashboardClient.Create(fixture.Dashboard, key);

    async Task<string> PageAsync(string path)
    {
        using var client = Client();
        var response = await client.GetAsync(path);
        var body = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode}\n{body}");
        return body;
    }

    /// <summary>The text of the first table row whose start tag has all of <paramref name="attributes"/>.</summary>
    static string Row(string html, params string[] attributes)
    {
        var row = Regex.Matches(html, "<tr([^>]*)>(.*?)</tr>", RegexOptions.Singleline)
            .FirstOrDefault(m => attributes.All(a => m.Groups[1].Value.Contains(a, StringComparison.Ordinal)));
        Assert.True(row is not null, $"no row with {string.Join(' ', attributes)}");
        return Regex.Replace(row.Groups[2].Value, @"\s+", " ");
    }

    static string Cell(string row, string attribute)
    {
        var cell = Regex.Match(row, $"<td[^>]*{Regex.Escape(attribute)}[^>]*>(.*?)</td>", RegexOptions.Singleline);
        Assert.True(cell.Success, $"no cell with {attribute} in {row}");
        return cell.Groups[1].Value.Trim();
    }

    [Fact]
    public async Task SweepsList_NewestFirst_StateArmsSeedsJobsAndLinks()
    {
        var page = await PageAsync("/ui/sweeps");

        var finished = Row(page, $"data-sweep=\"{fixture.Finished.Id}\"");
        Assert.Contains($"<a href=\"/ui/sweeps/{fixture.Finished.Id}\">dash-sweep</a>", finished);
        Assert.Contains("state state-SUCCEEDED\">succeeded", finished);
        Assert.Contains("<td>lite, sd</td>", finished);
        Assert.Contains("<td>1, 2</td>", finished);
        Assert.Contains(">4/4<", finished);
        var active = Row(page, $"data-sweep=\"{fixture.Active.Id}\"");
        Assert.Contains("state state-ACTIVE\">active", active);
        Assert.Contains(">0/2<", active);
        Assert.True(page.IndexOf(fixture.Active.Id, StringComparison.Ordinal) < page.IndexOf(fixture.Finished.Id, StringComparison.Ordinal),
            "the newer sweep is listed first");
        Assert.Contains("<a href=\"/ui/sweeps\">Sweeps</a>", page);
    }

    [Fact]
    public async Task SweepPage_Arms_MeanAndStdOverSeedsOfEveryMetric()
    {
        var page = await PageAsync($"/ui/sweeps/{fixture.Finished.Id}");

        var lite = Row(page, "data-arm=\"lite\"");
        var sd = Row(page, "data-arm=\"sd\"");
        // lite: 0.30 and 0.40 → mean 0.35, std sqrt(((−0.05)² + 0.05²) / 1) = 0.070710…
        Assert.Equal("0.35 ± 0.0707 (n=2)", Cell(lite, "data-metric=\"high_frequency_error\""));
        // sd: 0.25 and 0.32 → mean 0.285, std 0.07 / sqrt(2) = 0.049497…
        Assert.Equal("0.285 ± 0.0495 (n=2)", Cell(sd, "data-metric=\"high_frequency_error\""));
        // final loss 1/(30 · seed): 1/30 and 1/60 → mean 0.025, std (1/60) / sqrt(2) = 0.011785…
        Assert.Equal("0.025 ± 0.0118 (n=2)", Cell(lite, "data-metric=\"final_loss\""));
        Assert.Equal("1.5 ± 0 (n=2)", Cell(sd, "data-metric=\"high_frequency_power_ratio\""));
        Assert.Equal("2/2", Cell(lite, "class=\"num done\""));
        Assert.Equal("410.00k", Cell(lite, "class=\"num params\""));
        Assert.Equal("19.00M", Cell(sd, "class=\"num macs\""));   // 50 × 380 000
        Assert.EndsWith("(n=2)", Cell(sd, "class=\"num train-seconds\""));
    }

    [Fact]
    public async Task SweepPage_PairedComparison_DifferenceStandardErrorIntervalAndAgreement()
    {
        var page = await PageAsync($"/ui/sweeps/{fixture.Finished.Id}");

        var row = Row(page, "data-arms=\"lite/sd\"", "data-metric=\"high_frequency_error\"");
        var cells = Regex.Matches(row, "<td[^>]*>(.*?)</td>").Select(m => m.Groups[1].Value).ToList();
        // sd − lite per seed: 0.25 − 0.30 = −0.05 and 0.32 − 0.40 = −0.08. Mean −0.065; std of the differences 0.03 / sqrt(2),
        // standard error that / sqrt(2) = 0.015; 95% interval −0.065 ∓ t(0.975, 1 df) 12.7062 × 0.015 = [−0.255593, 0.125593].
        Assert.Equal(["lite", "sd", "high_frequency_error", "-0.065", "0.015", "[-0.2556, 0.1256]", "2/2"], cells);
    }

    [Fact]
    public async Task SweepPage_GateEvidenceAndCurves_DrawnFromTheReport()
    {
        var page = await PageAsync($"/ui/sweeps/{fixture.Finished.Id}");

        var hh = Row(page, "data-arm=\"sd\"", "data-band=\"HH\"");
        var cells = Regex.Matches(hh, "<td[^>]*>(.*?)</td>").Select(m => m.Groups[1].Value).ToList();
        // noisiest step 0.5 and 0.4; last step 0.8 and 0.7; range 0.3 on both seeds; |gate − init| (0 + 0.1 + 0.3)/3 and (0.1 + 0.1 + 0.2)/3
        Assert.Equal(["sd", "HH", "0.45 ± 0.071 (n=2)", "0.75 ± 0.071 (n=2)", "0.3 ± 0 (n=2)", "0.133 ± 0 (n=2)"], cells);
        Assert.DoesNotContain("data-arm=\"lite\" data-band", page);
        var charts = Regex.Match(page, "<div class=\"charts\" id=\"sweep-charts\">(.*?)</div>", RegexOptions.Singleline).Groups[1].Value;
        Assert.Equal(2, Regex.Count(charts, "<svg"));
        Assert.Contains("training loss, mean over seeds (log scale)", charts);
        Assert.Contains("<title>lite</title>", charts);
        Assert.Contains("<title>sd</title>", charts);
        Assert.Contains("sd: mean gate per band, mean over seeds", charts);
        Assert.Contains("<title>HH</title>", charts);
    }

    [Fact]
    public async Task SweepPage_Jobs_LinkedWithTheirState()
    {
        var page = await PageAsync($"/ui/sweeps/{fixture.Finished.Id}");

        foreach (var job in fixture.Finished.Jobs)
        {
            var row = Row(page, $"data-job=\"{job.JobId}\"");
            Assert.Contains($"<a href=\"/ui/jobs/{job.JobId}\">dash-sweep/{job.Arm}/seed{job.Seed}</a>", row);
            Assert.Contains("state state-SUCCEEDED\">succeeded", row);
        }
        Assert.DoesNotContain(fixture.LoneJobId, page);
    }

    [Fact]
    public async Task JobPage_JobOfASweep_LinksItsSweepAndArm()
    {
        var job = fixture.Finished.Jobs.Single(j => j.Arm == "sd" && j.Seed == 2);

        var page = await PageAsync($"/ui/jobs/{job.JobId}");
        var lone = await PageAsync($"/ui/jobs/{fixture.LoneJobId}");

        var sweep = Regex.Match(page, "<span id=\"job-sweep\">(.*?)</span>", RegexOptions.Singleline).Groups[1].Value;
        Assert.Equal($"Arm <strong>sd</strong>, seed 2 of sweep <a href=\"/ui/sweeps/{fixture.Finished.Id}\">dash-sweep</a>.", sweep.Trim());
        Assert.DoesNotContain("job-sweep", lone);
    }

    [Fact]
    public async Task SweepPage_UnknownOrMalformedId_404Page()
    {
        using var client = Client();

        var unknown = await client.GetAsync($"/ui/sweeps/{Guid.NewGuid()}");
        var malformed = await client.GetAsync("/ui/sweeps/not-a-sweep");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("No sweep has the id", await unknown.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, malformed.StatusCode);
        Assert.Contains("id=\"not-found\"", await malformed.Content.ReadAsStringAsync());
    }
}
