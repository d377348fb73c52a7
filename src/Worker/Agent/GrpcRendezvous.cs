using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Distributed;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>The orchestrator's rendezvous service as this attempt's key/value store (PyTorch's TCPStore role).</summary>
public sealed class GrpcRendezvous(Shared.Contracts.V1.Rendezvous.RendezvousClient client, string rendezvousId) : IRendezvous
{
    public async Task PutAsync(string key, byte[] value, CancellationToken ct) =>
        await client.PutAsync(new PutRequest { RendezvousId = rendezvousId, Key = key, Value = ByteString.CopyFrom(value) }, cancellationToken: ct);

    public async Task<byte[]> GetAsync(string key, TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            var response = await client.GetAsync(
                new GetRequest { RendezvousId = rendezvousId, Key = key, Timeout = Duration.FromTimeSpan(timeout) },
                deadline: DateTime.UtcNow + timeout + TimeSpan.FromSeconds(10), cancellationToken: ct);
            return response.Value.ToByteArray();
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
        {
            throw new TimeoutException($"rendezvous {rendezvousId}: key '{key}' did not appear within {timeout.TotalSeconds:F0} s", e);
        }
    }
}
