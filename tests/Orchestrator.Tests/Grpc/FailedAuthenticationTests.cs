using System.Net;
using Grpc.Core;
using SpectralDiffusion.Orchestrator.Tests.Dashboard;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>
/// Failed authentications per client address, over real gRPC and HTTP against a server of its own per test (every test
/// calls from 127.0.0.1): 10 failures per 2-second window, then even the right key is refused until the window ends.
/// </summary>
public class FailedAuthenticationTests : IAsyncLifetime
{
    const int Limit = 10;
    FreshDatabase database = null!;
    OrchestratorServer server = null!;

    public async Task InitializeAsync()
    {
        database = await TestDatabase.CreateFreshAsync();
        server = await OrchestratorServer.StartAsync(database, new Dictionary<string, string?>
        {
            ["Orchestrator:FailedAuthenticationLimit"] = Limit.ToString(),
            ["Orchestrator:FailedAuthenticationWindow"] = "00:00:02",
        });
    }

    async Task<StatusCode> ListAsync(string key)
    {
        try
        {
            await new Jobs.JobsClient(server.Invoker("x-api-key", key)).ListAsync(new ListJobsRequest());
            return StatusCode.OK;
        }
        catch (RpcException e) { return e.StatusCode; }
    }

    [Fact]
    public async Task List_TwentyWrongKeysThenRightKey_ResourceExhaustedUntilTheWindowPasses()
    {
        var wrong = new List<StatusCode>();
        for (var i = 0; i < 20; i++) wrong.Add(await ListAsync($"guessed-key-{i:D8}"));

        var right = await ListAsync(OrchestratorServer.ReadKey);
        var later = await Eventually.ReturnsAsync(() => ListAsync(OrchestratorServer.ReadKey), status => status == StatusCode.OK,
            TimeSpan.FromSeconds(30), "the right key accepted again");

        Assert.Equal(StatusCode.Unauthenticated, wrong[0]);
        Assert.Equal(Limit, wrong.Count(status => status == StatusCode.Unauthenticated));
        Assert.Equal(StatusCode.ResourceExhausted, wrong[^1]);
        Assert.Equal(StatusCode.ResourceExhausted, right);
        Assert.Equal(StatusCode.OK, later);
    }

    [Fact]
    public async Task List_RightKeyManyTimes_NeverLimited()
    {
        var statuses = new List<StatusCode>();
        for (var i = 0; i < 3 * Limit; i++) statuses.Add(await ListAsync(OrchestratorServer.ReadKey));

        Assert.All(statuses, status => Assert.Equal(StatusCode.OK, status));
    }

    [Fact]
    public async Task Heartbeat_RegisteredWorkerAtABlockedAddress_StillServed()
    {
        // A window long enough that the block cannot lapse between the calls below, on a machine under load.
        await using var ownDatabase = await TestDatabase.CreateFreshAsync();
        await using var blockedServer = await OrchestratorServer.StartAsync(ownDatabase, new Dictionary<string, string?>
        {
            ["Orchestrator:FailedAuthenticationLimit"] = Limit.ToString(),
            ["Orchestrator:FailedAuthenticationWindow"] = "00:05:00",
        });
        await using var worker = await FakeWorker.StartAsync(blockedServer.AsWorker, "blocked-address-worker");
        for (var i = 0; i < 2 * Limit; i++)
            await Assert.ThrowsAsync<RpcException>(() => new Jobs.JobsClient(blockedServer.Invoker("x-api-key", $"guessed-key-{i:D8}"))
                .ListAsync(new ListJobsRequest()).ResponseAsync);

        var ownCredential = await StatusOfAsync(() => new Workers.WorkersClient(blockedServer.AsWorkerWith(worker.Id, worker.Secret))
            .HeartbeatAsync(new HeartbeatRequest { WorkerId = worker.Id }).ResponseAsync);
        var wrongSecret = await StatusOfAsync(() => new Workers.WorkersClient(blockedServer.AsWorkerWith(worker.Id, "not-the-secret"))
            .HeartbeatAsync(new HeartbeatRequest { WorkerId = worker.Id }).ResponseAsync);
        var register = await StatusOfAsync(() => new Workers.WorkersClient(blockedServer.AsWorker)
            .RegisterAsync(new RegisterWorkerRequest { Name = "newcomer", Device = DeviceKind.Cpu }).ResponseAsync);

        Assert.Equal(StatusCode.OK, ownCredential);
        Assert.Equal(StatusCode.ResourceExhausted, wrongSecret);
        Assert.Equal(StatusCode.ResourceExhausted, register); // the address is still blocked for everything else
    }

    static async Task<StatusCode> StatusOfAsync<T>(Func<Task<T>> call)
    {
        try
        {
            await call();
            return StatusCode.OK;
        }
        catch (RpcException e) { return e.StatusCode; }
    }

    [Fact]
    public async Task Register_WrongTokenOrWrongWorkerSecret_SameMessage()
    {
        await using var worker = await FakeWorker.StartAsync(server.AsWorker, "limit-worker");

        var wrongToken = await Assert.ThrowsAsync<RpcException>(() => new Workers.WorkersClient(server.Invoker("x-worker-token", "not-the-worker-token"))
            .RegisterAsync(new RegisterWorkerRequest { Name = "intruder", Device = DeviceKind.Cpu }).ResponseAsync);
        var wrongSecret = await Assert.ThrowsAsync<RpcException>(() => new Workers.WorkersClient(server.AsWorkerWith(worker.Id, "not-the-secret"))
            .HeartbeatAsync(new HeartbeatRequest { WorkerId = worker.Id }).ResponseAsync);

        Assert.Equal((StatusCode.Unauthenticated, StatusCode.Unauthenticated), (wrongToken.StatusCode, wrongSecret.StatusCode));
        Assert.Equal(wrongToken.Status.Detail, wrongSecret.Status.Detail);
    }

    [Fact]
    public async Task Dashboard_TwentyWrongKeysThenRightKey_429UntilTheWindowPasses()
    {
        using var guesser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(server.DashboardAddress) };
        using var owner = DashboardClient.Create(server.DashboardAddress);
        var wrong = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/ui/workers") { Headers = { { "x-api-key", $"guessed-key-{i:D8}" } } };
            wrong.Add((await guesser.SendAsync(request)).StatusCode);
        }

        var right = (await owner.GetAsync("/ui/workers")).StatusCode;
        var later = await Eventually.ReturnsAsync(async () => (await owner.GetAsync("/ui/workers")).StatusCode, status => status == HttpStatusCode.OK,
            TimeSpan.FromSeconds(30), "the right key accepted again");

        Assert.Equal(HttpStatusCode.Redirect, wrong[0]);
        Assert.Equal(HttpStatusCode.TooManyRequests, wrong[^1]);
        Assert.Equal(HttpStatusCode.TooManyRequests, right);
        Assert.Equal(HttpStatusCode.OK, later);
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        await database.DisposeAsync();
    }
}
