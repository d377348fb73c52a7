using System.Diagnostics;
using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection;
using SpectralDiffusion.Orchestrator.Standby;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>Two orchestrators on one database: one active (it holds the lock), one standby that takes over when the lock frees.</summary>
public class StandbyTests
{
    static readonly TimeSpan Takeover = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Serve_SecondOrchestratorOnOneDatabase_IsNotReadyAndRefusesSpectralCallsNamingTheActive()
    {
        // Arrange
        await using var database = await TestDatabase.CreateFreshAsync();
        await using var active = await OrchestratorServer.StartAsync(database, Advertised("active.example:5080"));
        await using var standby = await OrchestratorServer.StartAsync(database, Advertised("standby.example:5080"));

        // Act
        var refused = await Assert.ThrowsAsync<RpcException>(() => new Jobs.JobsClient(standby.AsSubmitter).ListAsync(new ListJobsRequest()).ResponseAsync);
        var answered = await new Jobs.JobsClient(active.AsSubmitter).ListAsync(new ListJobsRequest());

        // Assert
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains("active.example:5080", refused.Status.Detail);
        Assert.Empty(answered.Jobs);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable), (await ReadinessAsync(active), await ReadinessAsync(standby)));
    }

    [Fact]
    public async Task Stop_ActiveStops_StandbyTakesOverWithTheJobsAndBecomesReady()
    {
        // Arrange: a job submitted to the active one.
        await using var database = await TestDatabase.CreateFreshAsync();
        var active = await OrchestratorServer.StartAsync(database, Advertised("a:5080"));
        await using var standby = await OrchestratorServer.StartAsync(database, Advertised("b:5080"));
        var job = await new Jobs.JobsClient(active.AsSubmitter).SubmitAsync(new SubmitJobRequest { Spec = Specs.Train() });

        // Act
        await active.DisposeAsync();
        var seen = await Eventually.ReturnsAsync(() => TryGetAsync(standby, job.Id), found => found is not null, Takeover, "the standby's takeover");

        // Assert
        Assert.Equal(job.Id, seen!.Id);
        Assert.Equal(HttpStatusCode.OK, await ReadinessAsync(standby));
        Assert.Equal(1, standby.Services.GetRequiredService<Leadership>().Term);
    }

    [Fact]
    public async Task LockSession_TerminatedByTheServer_ActiveStopsActingAndTheStandbyTakesOver()
    {
        // Arrange
        await using var database = await TestDatabase.CreateFreshAsync();
        await using var first = await OrchestratorServer.StartAsync(database, Advertised("first:5080"));
        await using var second = await OrchestratorServer.StartAsync(database, Advertised("second:5080"));
        var firstLeadership = first.Services.GetRequiredService<Leadership>();

        // Act: the first one's lock connection breaks (as when its network to PostgreSQL does).
        await TerminateLockSessionAsync(database, "first:5080");
        await Eventually.ReturnsAsync(() => Task.FromResult(firstLeadership.IsActive), active => !active, Takeover, "the first one's loops stopped");
        await Eventually.ReturnsAsync(() => Task.FromResult(second.Services.GetRequiredService<Leadership>().IsActive), active => active, Takeover,
            "the second one's takeover");
        await Eventually.ReturnsAsync(() => Task.FromResult(firstLeadership.IsServing), serving => !serving, Takeover,
            "the first one a standby once it sees the second holding the lock");
        var refused = await Assert.ThrowsAsync<RpcException>(() => new Jobs.JobsClient(first.AsSubmitter).ListAsync(new ListJobsRequest()).ResponseAsync);

        // Assert: the first one refuses and names the second, which answers.
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains("second:5080", refused.Status.Detail);
        Assert.Empty((await new Jobs.JobsClient(second.AsSubmitter).ListAsync(new ListJobsRequest())).Jobs);
    }

    [Fact]
    public async Task LockSession_TerminatedWithNoStandby_SameProcessTakesTheLockAgainInANewTerm()
    {
        // Arrange
        await using var database = await TestDatabase.CreateFreshAsync();
        await using var alone = await OrchestratorServer.StartAsync(database, Advertised("alone:5080"));
        var leadership = alone.Services.GetRequiredService<Leadership>();

        // Act
        await TerminateLockSessionAsync(database, "alone:5080");
        await Eventually.ReturnsAsync(() => Task.FromResult(leadership.Term), term => term == 2 && leadership.IsActive, Takeover, "the second term");

        // Assert
        Assert.Empty((await new Jobs.JobsClient(alone.AsSubmitter).ListAsync(new ListJobsRequest())).Jobs);
    }

    [Fact]
    public async Task HealthWatch_ActiveStops_StandbyTurnsServingSoonAfterItBecomesActive()
    {
        // Arrange: a grpc.health.v1 Watch of the standby's readiness (the default service).
        await using var database = await TestDatabase.CreateFreshAsync();
        var active = await OrchestratorServer.StartAsync(database, Advertised("a:5080"));
        await using var standby = await OrchestratorServer.StartAsync(database, Advertised("b:5080"));
        var leadership = standby.Services.GetRequiredService<Leadership>();
        using var watch = new Health.HealthClient(standby.Anonymous).Watch(new HealthCheckRequest(), deadline: DateTime.UtcNow + 2 * Takeover);
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, watch.ResponseStream.Current.Status);

        // Act: the active one stops; note when the standby becomes active and when its watch turns SERVING.
        var clock = Stopwatch.StartNew();
        await active.DisposeAsync();
        var becameActive = Eventually.ReturnsAsync(() => Task.FromResult((leadership.IsActive, clock.Elapsed)), seen => seen.IsActive, Takeover, "the takeover");
        while (await watch.ResponseStream.MoveNext() && watch.ResponseStream.Current.Status != HealthCheckResponse.Types.ServingStatus.Serving) { }
        var serving = clock.Elapsed;
        var activeAt = (await becameActive).Elapsed;

        // Assert: SERVING within a few publish periods of the takeover (the publisher's default period is 30 s).
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, watch.ResponseStream.Current.Status);
        var bound = 3 * Orchestrator.Hosting.OrchestratorSetup.HealthPublishPeriod + TimeSpan.FromSeconds(2);
        Assert.True(serving - activeAt < bound, $"active after {activeAt.TotalSeconds:0.00} s, SERVING after {serving.TotalSeconds:0.00} s; bound {bound.TotalSeconds} s");
    }

    internal static Dictionary<string, string?> Advertised(string address) => new()
    {
        ["Orchestrator:AdvertisedAddress"] = address,
        ["Orchestrator:StandbyPollInterval"] = "00:00:00.200",
        ["Orchestrator:LockCheckInterval"] = "00:00:00.200",
    };

    static async Task<Job?> TryGetAsync(OrchestratorServer server, string id)
    {
        try { return await new Jobs.JobsClient(server.AsSubmitter).GetAsync(new GetJobRequest { Id = id }); }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable) { return null; }
    }

    static async Task<HttpStatusCode> ReadinessAsync(OrchestratorServer server)
    {
        using var http = new HttpClient();
        return (await http.GetAsync(server.DashboardAddress.TrimEnd('/') + Orchestrator.Hosting.OrchestratorSetup.ReadinessPath)).StatusCode;
    }

    internal static async Task TerminateLockSessionAsync(FreshDatabase database, string advertised)
    {
        var terminated = await database.ScalarAsync<bool>($"""
            SELECT bool_or(pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE application_name = '{ActiveLock.ApplicationPrefix}{advertised}'
            """);
        Assert.True(terminated, $"no lock session of {advertised} to terminate");
    }
}
