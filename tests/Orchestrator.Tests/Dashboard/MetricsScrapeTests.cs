using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;
using Npgsql;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Dashboard;

/// <summary>
/// <c>/metrics</c> scraped over the dashboard's socket as Prometheus would (a bearer key), parsed as the text format, and
/// compared with what PostgreSQL holds for the seeded jobs and workers (<see cref="DashboardFixture"/>).
/// </summary>
public class MetricsScrapeTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    async Task<List<PrometheusSample>> ScrapeAsync()
    {
        using var client = new HttpClient { BaseAddress = new Uri(fixture.Dashboard) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OrchestratorServer.ReadKey);
        using var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync());
    }

    async Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> map)
    {
        await using var connection = new NpgsqlConnection(fixture.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync()) rows.Add(map(reader));
        return rows;
    }

    [Fact]
    public async Task Scrape_SeededCluster_CountsEqualWhatPostgresHolds()
    {
        // Arrange: the database's own counts.
        var jobs = (await QueryAsync("SELECT state, count(*) FROM jobs GROUP BY state", r => (r.GetString(0), r.GetInt64(1)))).ToDictionary();
        var queued = (await QueryAsync("SELECT device, count(*) FROM jobs WHERE state = 'QUEUED' GROUP BY device", r => (r.GetString(0), r.GetInt64(1)))).ToDictionary();
        var workers = (await QueryAsync("SELECT state || '/' || device, count(*) FROM workers GROUP BY state, device", r => (r.GetString(0), r.GetInt64(1)))).ToDictionary();

        // Act
        var samples = await ScrapeAsync();

        // Assert: every state and device is exported, zero where the database has none.
        foreach (var state in new[] { "QUEUED", "SCHEDULED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED" })
            Assert.Equal(jobs.GetValueOrDefault(state), samples.Value("sd_jobs", ("state", state)));
        Assert.Equal(jobs.Values.Sum(), samples.Where(s => s.Name == "sd_jobs").Sum(s => s.Value));
        Assert.True(jobs["SUCCEEDED"] >= 4 && jobs["QUEUED"] >= 1, "the fixture seeds finished and queued jobs");
        foreach (var device in new[] { "cpu", "cuda" })
            Assert.Equal(queued.GetValueOrDefault(device), samples.Value("sd_queue_depth", ("device", device)));
        foreach (var state in new[] { "idle", "busy", "lost", "gone" })
            foreach (var device in new[] { "cpu", "cuda" })
                Assert.Equal(workers.GetValueOrDefault(state + "/" + device), samples.Value("sd_workers", ("state", state), ("device", device)));
        Assert.Equal(1, samples.Value("sd_workers", ("state", "busy"), ("device", "cpu")));
    }

    [Fact]
    public async Task Scrape_RunningJobAndEvaluation_FiguresEqualWhatTheRanksReported()
    {
        // Arrange: what the database holds for the running job and the teacher's evaluation.
        var (step, total, rate, loss) = (await QueryAsync(
            $"SELECT progress_step, progress_total, steps_per_second, (progress_metrics ->> 'loss')::float8 FROM jobs WHERE id = '{fixture.RunningId}'",
            r => (r.GetInt64(0), r.GetInt64(1), r.GetDouble(2), r.GetDouble(3)))).Single();
        var (fid, high) = (await QueryAsync($"SELECT fid, high_frequency_error FROM evaluations WHERE job_id = '{fixture.TeacherEvaluationId}'",
            r => (r.GetDouble(0), r.GetDouble(1)))).Single();

        // Act
        var samples = await ScrapeAsync();

        // Assert
        var running = ("job_id", fixture.RunningId);
        Assert.Equal(step, samples.Value("sd_job_step", running));
        Assert.Equal(total, samples.Value("sd_job_total_steps", running));
        Assert.Equal(rate, samples.Value("sd_job_steps_per_second", running));
        Assert.Equal(loss, samples.Value("sd_job_metric", running, ("metric", "loss")));
        Assert.Equal("dash-running", samples.Single(s => s.Name == "sd_job_step" && s.Labels["job_id"] == fixture.RunningId).Labels["job_name"]);
        Assert.Null(samples.Value("sd_job_step", ("job_id", fixture.TeacherId)));   // finished: no live series
        var evaluation = ("job_id", fixture.TeacherEvaluationId);
        Assert.Equal(fid, samples.Value("sd_evaluation", evaluation, ("figure", "fid")));
        Assert.Equal(high, samples.Value("sd_evaluation", evaluation, ("figure", "high_frequency_error")));
        Assert.Equal(1_600_000, samples.Value("sd_evaluation", evaluation, ("figure", "params"), ("preset", "tiny-ldm")));
    }

    [Fact]
    public async Task Scrape_AfterARefusedCall_CountsItByMethodAndCode()
    {
        // Arrange
        var notFound = ("grpc_code", "NotFound");
        var (service, getJob) = (("grpc_service", "spectral.v1.Jobs"), ("grpc_method", "Get"));
        var before = (await ScrapeAsync()).Value("sd_grpc_server_handled_total", service, getJob, notFound) ?? 0;

        // Act
        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            new Jobs.JobsClient(fixture.Server.AsSubmitter).GetAsync(new GetJobRequest { Id = Guid.NewGuid().ToString() }).ResponseAsync);
        var samples = await ScrapeAsync();

        // Assert
        Assert.Equal(StatusCode.NotFound, refused.StatusCode);
        Assert.Equal(before + 1, samples.Value("sd_grpc_server_handled_total", service, getJob, notFound));
        Assert.True(samples.Value("sd_grpc_server_handled_total", service, ("grpc_method", "Submit"), ("grpc_code", "OK")) >= 6);
        Assert.True(samples.Value("sd_grpc_server_handling_seconds_count", service, getJob) >= before + 1);
    }

    [Fact]
    public async Task Scrape_SchedulingAndHeartbeats_CountedAsTheyHappen()
    {
        // Arrange
        var attempts = (await QueryAsync("SELECT count(*) FROM attempts", r => r.GetInt64(0))).Single();
        var first = await ScrapeAsync();

        // Act: the fixture's worker heartbeats every 300 ms.
        var later = await Eventually.ReturnsAsync(ScrapeAsync, s => s.Value("sd_heartbeats_total") > first.Value("sd_heartbeats_total"),
            what: "a heartbeat counted after the first scrape");

        // Assert: one latency observation per attempt scheduled (every attempt of this fresh database was scheduled by this process).
        Assert.Equal(attempts, later.Value("sd_scheduling_latency_seconds_count"));
        Assert.True(later.Value("sd_scheduling_latency_seconds_sum") >= 0);
        Assert.Equal(0, later.Value("sd_lease_expiries_total"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key-of-enough-length")]
    public async Task Scrape_MissingOrWrongKey_401WithoutFigures(string? key)
    {
        using var client = new HttpClient { BaseAddress = new Uri(fixture.Dashboard) };
        if (key is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

        using var response = await client.GetAsync("/metrics");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.DoesNotContain("sd_", body);
    }

    [Fact]
    public async Task Scrape_ApiKeyHeader_AcceptedLikeTheDashboard()
    {
        using var client = DashboardClient.Create(fixture.Dashboard);

        using var response = await client.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("# TYPE sd_jobs gauge", await response.Content.ReadAsStringAsync());
    }
}
