using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Polly;
using Polly.Retry;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Distributed;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>
/// The orchestrator's rendezvous service as this attempt's key/value store (PyTorch's TCPStore role). The orchestrator
/// keeps the keys in its database, so a call that meets it restarting (UNAVAILABLE) is made again: a get for what is
/// left of its timeout, a put for up to <see cref="PutRetryWindow"/>.
/// </summary>
public sealed class GrpcRendezvous(Shared.Contracts.V1.Rendezvous.RendezvousClient client, string rendezvousId, TimeSpan? retryDelay = null)
    : IRendezvous
{
    public static readonly TimeSpan PutRetryWindow = TimeSpan.FromMinutes(5);
    static readonly TimeSpan DefaultRetryDelay = TimeSpan.FromSeconds(1);

    public async Task PutAsync(string key, byte[] value, CancellationToken ct)
    {
        var until = DateTime.UtcNow + PutRetryWindow;
        await WhileUnavailable(until).ExecuteAsync(async token =>
            await client.PutAsync(new PutRequest { RendezvousId = rendezvousId, Key = key, Value = ByteString.CopyFrom(value) }, cancellationToken: token), ct);
    }

    public async Task<byte[]> GetAsync(string key, TimeSpan timeout, CancellationToken ct)
    {
        var until = DateTime.UtcNow + timeout;
        try
        {
            return await WhileUnavailable(until).ExecuteAsync(async token =>
            {
                var left = until - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) throw new RpcException(new Status(StatusCode.DeadlineExceeded, "no time left"));
                var response = await client.GetAsync(new GetRequest { RendezvousId = rendezvousId, Key = key, Timeout = Duration.FromTimeSpan(left) },
                    deadline: DateTime.UtcNow + left + TimeSpan.FromSeconds(10), cancellationToken: token);
                return response.Value.ToByteArray();
            }, ct);
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.DeadlineExceeded or StatusCode.Unavailable)
        {
            throw new TimeoutException($"rendezvous {rendezvousId}: key '{key}' did not appear within {timeout.TotalSeconds:F0} s ({e.Status.Detail})", e);
        }
    }

    /// <summary>Makes a call again while it gets UNAVAILABLE (the orchestrator restarting), until <paramref name="until"/>.</summary>
    ResiliencePipeline WhileUnavailable(DateTime until) => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<RpcException>(e => e.StatusCode == StatusCode.Unavailable && DateTime.UtcNow < until),
            BackoffType = DelayBackoffType.Constant,
            Delay = retryDelay ?? DefaultRetryDelay,
            MaxRetryAttempts = int.MaxValue,
        })
        .Build();
}
