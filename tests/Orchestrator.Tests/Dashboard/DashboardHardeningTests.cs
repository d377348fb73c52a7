using System.Net;
using System.Text;
using Grpc.Core;
using Microsoft.Playwright;
using Microsoft.Extensions.DependencyInjection;
using SpectralDiffusion.Orchestrator.Artifacts;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Dashboard;

/// <summary>What a hostile job file meets: refused at upload over real gRPC unless it is a PNG, CSV or JSON by content; and
/// the dashboard's headers (content-security policy, nosniff, no framing) on every response over real HTTP.</summary>
public class DashboardHardeningTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    const string ScriptedSvg = """<svg xmlns="http://www.w3.org/2000/svg"><script>fetch('/ui').then(r => r.text()).then(t => parent.stolen = t)</script></svg>""";

    Task<ArtifactReceipt> UploadFileAsync(string name, byte[] content) => fixture.Runner.UploadAsync(new ArtifactHeader
    {
        Kind = ArtifactKind.File, JobId = fixture.RunningId, Attempt = fixture.RunningStart.Attempt, Rank = 0, WorldSize = 1,
        Sha256 = FakeWorker.Sha256(content), Size = content.Length, Name = name,
    }, content);

    async Task<long> RecordedAsync(string name) =>
        await fixture.Database.ScalarAsync<long>($"SELECT count(*) FROM job_files WHERE job_id = '{fixture.RunningId}' AND name = '{name}'");

    [Theory]
    [InlineData("evil.svg", ScriptedSvg, "'.svg' is not a job file type")]
    [InlineData("evil.png", ScriptedSvg, "PNG signature")]
    [InlineData("evil.json", ScriptedSvg, "not valid JSON")]
    [InlineData("evil.csv", "a,b\n1,\u0001", "control character")]
    public async Task UploadArtifact_ContentNotWhatTheProductWrites_InvalidArgumentNamingTheFile(string name, string content, string reason)
    {
        var bytes = Encoding.UTF8.GetBytes(content);

        var error = await Assert.ThrowsAsync<RpcException>(() => UploadFileAsync(name, bytes));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(name, error.Status.Detail);
        Assert.Contains(reason, error.Status.Detail);
        Assert.Equal(0L, await RecordedAsync(name));
    }

    [Fact]
    public async Task UploadArtifact_CsvNotUtf8_InvalidArgument()
    {
        byte[] latin1 = [(byte)'a', (byte)',', 0xE9, (byte)'\n'];

        var error = await Assert.ThrowsAsync<RpcException>(() => UploadFileAsync("latin1.csv", latin1));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("not valid UTF-8", error.Status.Detail);
    }

    [Fact]
    public async Task Files_CsvAndJson_ServedAsAttachmentsAndPngInline()
    {
        await UploadFileAsync("metrics.csv", "step,loss\n1,0.5\n"u8.ToArray());
        await UploadFileAsync("report.json", """{"fid": 12.5}"""u8.ToArray());
        using var client = DashboardClient.Create(fixture.Dashboard);

        var csv = await client.GetAsync($"/ui/files/{fixture.RunningId}/metrics.csv");
        var json = await client.GetAsync($"/ui/files/{fixture.RunningId}/report.json");
        var png = await client.GetAsync($"/ui/files/{fixture.TeacherEvaluationId}/samples.png");

        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("attachment", csv.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.Equal("step,loss\n1,0.5\n", await csv.Content.ReadAsStringAsync());
        Assert.Equal("attachment", json.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("application/json", json.Content.Headers.ContentType?.MediaType);
        Assert.Null(png.Content.Headers.ContentDisposition);
        Assert.Equal("image/png", png.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/ui")]
    [InlineData("/ui/login")]
    [InlineData("/ui/jobs/{evaluation}")]
    [InlineData("/ui/files/{evaluation}/samples.png")]
    [InlineData("/ui/assets/dashboard.css")]
    public async Task Dashboard_AnyResponse_CarriesStrictPolicyNosniffAndNoFraming(string path)
    {
        using var client = DashboardClient.Create(fixture.Dashboard);

        var response = await client.GetAsync(path.Replace("{evaluation}", fixture.TeacherEvaluationId));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy);
        Assert.Contains("script-src 'self'", policy);
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.DoesNotContain("unsafe-inline", policy);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
    }

    [Fact]
    public async Task Dashboard_SignedOutRequest_StillCarriesThePolicy()
    {
        using var client = DashboardClient.Create(fixture.Dashboard, key: null);

        var response = await client.GetAsync("/ui/workers");

        Assert.Contains("frame-ancestors 'none'", string.Join(";", response.Headers.GetValues("Content-Security-Policy")));
    }

    [Fact]
    public async Task Files_ScriptedSvgRecordedBeforeChecks_ChromiumDownloadsItInsteadOfRunningIt()
    {
        // Arrange: an SVG with a script stored and recorded directly, as a file recorded before uploads were checked would be.
        var content = Encoding.UTF8.GetBytes(ScriptedSvg.Replace("parent.stolen = t", "document.title = 'script ran'"));
        var sha = FakeWorker.Sha256(content);
        await fixture.Server.Services.GetRequiredService<ArtifactStore>().StoreAsync(Chunks(content), sha, content.Length, CancellationToken.None);
        await fixture.Database.ScalarAsync<int>($"""
            INSERT INTO artifacts (sha256, size, kind, name, job_id) VALUES ('{sha}', {content.Length}, 'file', 'legacy.svg', '{fixture.RunningId}');
            INSERT INTO job_files (job_id, name, attempt, sha256, size) VALUES ('{fixture.RunningId}', 'legacy.svg', {fixture.RunningStart.Attempt}, '{sha}', {content.Length});
            SELECT 1
            """);
        var page = await fixture.SignedInPageAsync();
        var url = $"{fixture.Dashboard}/ui/files/{fixture.RunningId}/legacy.svg";

        // Act
        var download = await page.RunAndWaitForDownloadAsync(() => page.EvaluateAsync("url => { location.href = url; }", url));

        // Assert: a download, not a document of the dashboard's origin; the page that asked is untouched.
        Assert.Equal("legacy.svg", download.SuggestedFilename);
        Assert.NotEqual("script ran", await page.TitleAsync());
        Assert.Equal("/ui", new Uri(page.Url).AbsolutePath);
    }

    [Fact]
    public async Task JobsPage_InlineScriptInjected_ChromiumRefusesToRunIt()
    {
        var page = await fixture.SignedInPageAsync();

        try { await page.AddScriptTagAsync(new PageAddScriptTagOptions { Content = "window.injected = true;" }); }
        catch (PlaywrightException) { /* the policy's refusal may surface as an error too */ }

        Assert.False(await page.EvaluateAsync<bool>("() => window.injected === true"));
        Assert.True(await page.EvaluateAsync<bool>("() => document.querySelectorAll('.bar > span').length > 0 && document.querySelector('.bar > span').style.width !== ''"));
    }

    static async IAsyncEnumerable<ReadOnlyMemory<byte>> Chunks(byte[] content)
    {
        await Task.Yield();
        yield return content;
    }
}
