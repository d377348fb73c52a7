using Google.Protobuf;
using Grpc.Core;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Agent;

namespace SpectralDiffusion.Worker.Tests.Agent;

/// <summary>A rendezvous wait that spans an orchestrator restart: the get is asked again, for what is left of its timeout.</summary>
public class GrpcRendezvousTests
{
    [Fact]
    public async Task GetAsync_OrchestratorUnavailableWhileWaiting_AsksAgainAndReturnsTheValue()
    {
        var client = new ScriptedRendezvousClient(unavailableCalls: 2, value: [4, 2]);
        var rendezvous = new GrpcRendezvous(client, Guid.NewGuid().ToString(), retryDelay: TimeSpan.FromMilliseconds(10));

        var value = await rendezvous.GetAsync("rank-0", TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.Equal([4, 2], value);
        Assert.Equal(3, client.Timeouts.Count);
        Assert.True(client.Timeouts[2] < client.Timeouts[0], $"the retry asked for {client.Timeouts[2]}, not for what was left of {client.Timeouts[0]}");
    }

    [Fact]
    public async Task GetAsync_OrchestratorUnavailableForTheWholeTimeout_ThrowsTimeoutNamingTheKey()
    {
        var client = new ScriptedRendezvousClient(unavailableCalls: int.MaxValue, value: []);
        var rendezvous = new GrpcRendezvous(client, Guid.NewGuid().ToString(), retryDelay: TimeSpan.FromMilliseconds(10));

        var error = await Assert.ThrowsAsync<TimeoutException>(() => rendezvous.GetAsync("rank-1", TimeSpan.FromSeconds(1), CancellationToken.None));

        Assert.Contains("rank-1", error.Message);
        Assert.True(client.Timeouts.Count > 1, "the get was not asked again");
    }

    /// <summary>A Rendezvous client whose first gets fail with UNAVAILABLE (the orchestrator is restarting), then answer.</summary>
    sealed class ScriptedRendezvousClient(int unavailableCalls, byte[] value) : Rendezvous.RendezvousClient
    {
        public List<TimeSpan> Timeouts { get; } = [];

        public override AsyncUnaryCall<GetResponse> GetAsync(GetRequest request, CallOptions options)
        {
            Timeouts.Add(request.Timeout.ToTimeSpan());
            var response = Timeouts.Count <= unavailableCalls
                ? Task.FromException<GetResponse>(new RpcException(new Status(StatusCode.Unavailable, "connection refused")))
                : Task.FromResult(new GetResponse { Value = ByteString.CopyFrom(value) });
            return new AsyncUnaryCall<GetResponse>(response, Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
        }
    }
}
