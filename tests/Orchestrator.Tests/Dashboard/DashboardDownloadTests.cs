using System.Net;
using Microsoft.Playwright;

namespace SpectralDiffusion.Orchestrator.Tests.Dashboard;

/// <summary>The job page's downloads: every artifact linked under the signed-in session, served as an attachment.</summary>
public class DashboardDownloadTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    [Fact]
    public async Task JobPage_FinishedTraining_DownloadLinkSavesTheModelAsAnAttachment()
    {
        // Arrange
        var page = await fixture.SignedInPageAsync();
        await page.GotoAsync($"{fixture.Dashboard}/ui/jobs/{fixture.TeacherId}");
        await page.WaitForSelectorAsync("#downloads");
        await DashboardFixture.ScreenshotAsync(page, "20-job-downloads");

        // Act
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#downloads a:text-is('model.safetensors')"));
        var saved = await File.ReadAllBytesAsync((await download.PathAsync())!);

        // Assert: the bytes the worker uploaded as the job's model, under the artifact's name; the shard is listed too.
        Assert.Equal("weights of dash-teacher"u8.ToArray(), saved);
        Assert.Equal("model.safetensors", download.SuggestedFilename);
        Assert.Contains("checkpoint-40/shard-0-of-1.safetensors", await page.InnerTextAsync("#downloads"));
    }

    [Fact]
    public async Task ArtifactUrl_WithKey_AttachmentWithLengthAndSha256Headers()
    {
        using var client = DashboardClient.Create(fixture.Dashboard);

        using var response = await client.GetAsync($"/ui/artifacts/{fixture.TeacherId}/model.safetensors");
        var content = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(content.LongLength, response.Content.Headers.ContentLength);
        Assert.Equal(FakeWorker.Sha256(content), response.Headers.GetValues("X-Artifact-Sha256").Single());
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Redirect)]
    [InlineData(OrchestratorServer.ReadKey, HttpStatusCode.NotFound)]
    public async Task ArtifactUrl_NoSessionOrUnknownName_RedirectedToLoginOrNotFound(string? key, HttpStatusCode expected)
    {
        using var client = DashboardClient.Create(fixture.Dashboard, key);

        using var response = await client.GetAsync($"/ui/artifacts/{fixture.TeacherId}/{(key is null ? "model.safetensors" : "no-such.csv")}");

        Assert.Equal(expected, response.StatusCode);
    }
}
