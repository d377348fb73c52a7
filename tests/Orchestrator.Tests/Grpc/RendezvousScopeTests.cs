using Google.Protobuf;
using Grpc.Core;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>A rendezvous belongs to the ranks of its attempt: a worker of another job can neither write nor read it.</summary>
public class RendezvousScopeTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    readonly OrchestratorServer server = fixture.Server;

    [Fact]
    public async Task Put_WorkerOfAnotherJob_PermissionDeniedAndNothingStored()
    {
        // Arrange: a live two-rank attempt, and a worker running a one-rank job of its own.
        await using var run = await TwoRankJob.StartAsync(server, "scoped");
        await using var outsider = await FakeWorker.StartAsync(server.AsWorker, "scoped-outsider");
        await new Jobs.JobsClient(server.AsSubmitter).SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1) });
        var outsiderStart = await outsider.NextStartAsync();
        var intruder = new Rendezvous.RendezvousClient(outsider.Invoker);
        var target = run.StartA.RendezvousId;

        // Act
        var put = await Assert.ThrowsAsync<RpcException>(() => intruder.PutAsync(new PutRequest
        {
            RendezvousId = target, Key = "rank-0", Value = ByteString.CopyFromUtf8("10.0.0.66:4000"),
        }).ResponseAsync);
        var get = await Assert.ThrowsAsync<RpcException>(() => intruder.GetAsync(new GetRequest
        {
            RendezvousId = target, Key = "rank-0", Timeout = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(1)),
        }).ResponseAsync);
        await new Rendezvous.RendezvousClient(run.B.Invoker).PutAsync(new PutRequest { RendezvousId = target, Key = "rank-1", Value = ByteString.CopyFromUtf8("b") });
        var ownGet = await new Rendezvous.RendezvousClient(run.A.Invoker).GetAsync(new GetRequest { RendezvousId = target, Key = "rank-1" });

        // Assert: refused both ways, the intruder's key never stored, the ranks themselves still served.
        Assert.NotEqual(target, outsiderStart.RendezvousId);
        Assert.Equal(StatusCode.PermissionDenied, put.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, get.StatusCode);
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM rendezvous_keys WHERE rendezvous_id = '{target}' AND key = 'rank-0'"));
        Assert.Equal("b", ownGet.Value.ToStringUtf8());
    }
}
