using System.Net;
using Grpc.Core;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Dashboard;

/// <summary>The dashboard's answers to scripts and to bad input, over plain HTTP (the x-api-key header) against seeded runs.</summary>
public class DashboardHttpTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    HttpClient Client(string? key = OrchestratorServer.ReadKey) => DashboardClient.Create(fixture.Dashboard, key);

    [Fact]
    public async Task JobPage_UnknownOrMalformedId_404Page()
    {
        using var client = Client();

        var unknown = await client.GetAsync($"/ui/jobs/{Guid.NewGuid()}");
        var malformed = await client.GetAsync("/ui/jobs/not-a-job");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("No job has the id", await unknown.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, malformed.StatusCode);
        Assert.Contains("not-found", await malformed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task JobPage_QueuedJobWithoutMetrics_SaysSo()
    {
        using var client = Client();

        var page = await client.GetStringAsync($"/ui/jobs/{fixture.QueuedId}");

        Assert.Contains("No metrics recorded yet", page);
        Assert.DoesNotContain("<svg", page);
    }

    [Fact]
    public async Task Files_RecordedName_ServesTheUploadedBytesFromTheStore()
    {
        using var client = Client();

        var response = await client.GetAsync($"/ui/files/{fixture.TeacherEvaluationId}/samples.png");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(fixture.SampleGrid, await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("..%2F..%2F..%2Fetc%2Fpasswd")]
    [InlineData("%2Fetc%2Fpasswd")]
    [InlineData(".hidden")]
    [InlineData("model.safetensors")]   // an artifact of the job, but not a published file
    [InlineData("missing.png")]
    public async Task Files_NameNotRecordedForTheJob_404(string name)
    {
        using var client = Client();

        var response = await client.GetAsync($"/ui/files/{fixture.TeacherEvaluationId}/{name}");
        var otherJob = await client.GetAsync($"/ui/files/{fixture.TeacherId}/samples.png");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, otherJob.StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    public async Task EveryPage_MissingOrWrongKey_RedirectsToLoginWithoutData(string? key)
    {
        using var client = Client(key);
        string[] paths = ["/ui", $"/ui/jobs/{fixture.TeacherId}", "/ui/workers", $"/ui/compare?ids={fixture.TeacherId}", "/ui/sweeps",
            $"/ui/sweeps/{Guid.NewGuid()}", $"/ui/files/{fixture.TeacherEvaluationId}/samples.png", "/ui/nowhere"];

        var responses = await Task.WhenAll(paths.Select(path => client.GetAsync(path)));
        var rows = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/ui?handler=rows") { Headers = { { "x-dashboard-fetch", "1" } } });

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Redirect, r.StatusCode));
        Assert.All(responses, r => Assert.StartsWith("/ui/login?returnUrl=", r.Headers.Location?.OriginalString));
        Assert.All(await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync())), body => Assert.Empty(body));
        Assert.Equal(HttpStatusCode.Unauthorized, rows.StatusCode);
        Assert.DoesNotContain("dash-", await rows.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task JobsRows_FilterByStateTypeAndLabel_OnlyMatchingJobs()
    {
        using var client = Client(OrchestratorServer.SubmitKey);   // a submit key reads too

        var running = await client.GetStringAsync("/ui?handler=rows&state=running");
        var evaluations = await client.GetStringAsync("/ui?handler=rows&type=evaluate");
        var labelled = await client.GetStringAsync("/ui?handler=rows&label=suite%3Dorchestrator-tests");
        var otherLabel = await client.GetStringAsync("/ui?handler=rows&label=suite%3Delsewhere");
        var badState = await client.GetStringAsync("/ui?state=sleeping");

        Assert.Contains(fixture.RunningId, running);
        Assert.DoesNotContain(fixture.TeacherId, running);
        Assert.Contains(fixture.TeacherEvaluationId, evaluations);
        Assert.DoesNotContain(fixture.QueuedId, evaluations);
        Assert.Contains(fixture.QueuedId, labelled);
        Assert.DoesNotContain(fixture.QueuedId, otherLabel);
        Assert.Contains("SLEEPING", badState);
        Assert.Contains("is not one of QUEUED", badState);
    }

    [Theory]
    [InlineData("../gates.png")]
    [InlineData("plots/gates.png")]
    [InlineData(".gates.png")]
    public async Task UploadArtifact_JobFileNameWithPath_InvalidArgumentAndNothingRecorded(string name)
    {
        var content = TestPng.Create(2, 2, (_, _) => (1, 2, 3));

        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Runner.UploadAsync(new ArtifactHeader
        {
            Kind = ArtifactKind.File, JobId = fixture.RunningId, Attempt = fixture.RunningStart.Attempt, Rank = 0, WorldSize = 1,
            Sha256 = FakeWorker.Sha256(content), Size = content.Length, Name = name,
        }, content));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("header.name", error.Status.Detail);
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>($"SELECT count(*) FROM job_files WHERE job_id = '{fixture.RunningId}'"));
    }
}
