using Grpc.Core;
using Grpc.Health.V1;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

public class AuthTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    readonly OrchestratorServer server = fixture.Server;

    [Fact]
    public async Task Submit_NoApiKey_Unauthenticated()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            new Jobs.JobsClient(server.Anonymous).SubmitAsync(new SubmitJobRequest { Spec = Specs.Train() }).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Contains("x-api-key", error.Status.Detail);
    }

    [Fact]
    public async Task Submit_WrongApiKey_UnauthenticatedAndNothingStored()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            new Jobs.JobsClient(server.Invoker("x-api-key", "guessed")).SubmitAsync(new SubmitJobRequest { Spec = Specs.Train() }).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.DoesNotContain("guessed", error.Status.Detail);
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM jobs"));
    }

    [Fact]
    public async Task Submit_ReadKey_PermissionDenied()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            new Jobs.JobsClient(server.AsReader).SubmitAsync(new SubmitJobRequest { Spec = Specs.Train() }).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("submit", error.Status.Detail);
    }

    [Fact]
    public async Task List_ReadKeyAndSubmitKey_BothAllowed()
    {
        var asReader = await new Jobs.JobsClient(server.AsReader).ListAsync(new ListJobsRequest());
        var asSubmitter = await new RunHistory.RunHistoryClient(server.AsSubmitter).ListRunsAsync(new ListRunsRequest());

        Assert.NotNull(asReader);
        Assert.NotNull(asSubmitter);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token")]
    public async Task Register_MissingOrWrongWorkerToken_Unauthenticated(string? token)
    {
        var invoker = token is null ? server.Anonymous : server.Invoker("x-worker-token", token);

        var error = await Assert.ThrowsAsync<RpcException>(() => new Workers.WorkersClient(invoker)
            .RegisterAsync(new RegisterWorkerRequest { Name = "intruder", Device = DeviceKind.Cpu }).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM workers WHERE name = 'intruder'"));
    }

    [Fact]
    public async Task Rendezvous_ApiKeyInsteadOfWorkerToken_Unauthenticated()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => new Rendezvous.RendezvousClient(server.AsSubmitter)
            .PutAsync(new PutRequest { RendezvousId = Guid.NewGuid().ToString(), Key = "k" }).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task HealthCheck_NoCredentials_Serving()
    {
        var health = new Health.HealthClient(server.Anonymous);

        var response = await Eventually.ReturnsAsync(async () => await health.CheckAsync(new HealthCheckRequest()),
            r => r.Status != HealthCheckResponse.Types.ServingStatus.Unknown, TimeSpan.FromSeconds(5), "first health report");

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }
}
