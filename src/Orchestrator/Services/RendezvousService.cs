using Grpc.Core;
using Microsoft.Extensions.Options;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Coordination;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Services;

/// <summary>spectral.v1.Rendezvous: put and blocking get in the namespace of a live attempt, for that attempt's ranks only.</summary>
internal sealed class RendezvousService(RendezvousStore store, IOptions<RendezvousOptions> options) : Rendezvous.RendezvousBase
{
    /// <summary>The longest a Get may wait (a rendezvous that takes longer has lost a rank).</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(1);

    public override async Task<PutResponse> Put(PutRequest request, ServerCallContext context)
    {
        var id = Validate(request.RendezvousId, request.Key);
        if (request.Value.Length > RendezvousStore.MaxValueBytes)
            throw OrchestratorException.Invalid("value", $"is {request.Value.Length} bytes; at most {RendezvousStore.MaxValueBytes}");
        await store.PutAsync(id, Caller(context), request.Key, request.Value.ToByteArray(), context.CancellationToken);
        return new PutResponse();
    }

    public override async Task<GetResponse> Get(GetRequest request, ServerCallContext context)
    {
        var id = Validate(request.RendezvousId, request.Key);
        var timeout = request.Timeout is null ? options.Value.RendezvousTimeout : request.Timeout.ToTimeSpan();
        if (timeout <= TimeSpan.Zero || timeout > MaxTimeout)
            throw OrchestratorException.Invalid("timeout", $"is {timeout}; must be positive and at most {MaxTimeout.TotalMinutes:0} minutes");
        var value = await store.GetAsync(id, Caller(context), request.Key, timeout, context.CancellationToken);
        return new GetResponse { Value = Google.Protobuf.ByteString.CopyFrom(value) };
    }

    static Guid Caller(ServerCallContext context) => (Guid)context.UserState[Security.AuthInterceptor.WorkerIdKey];

    static Guid Validate(string rendezvousId, string key)
    {
        var id = Ids.Parse(rendezvousId, "rendezvous_id");
        if (key.Length is 0 or > RendezvousStore.MaxKeyLength)
            throw OrchestratorException.Invalid("key", $"must be 1 to {RendezvousStore.MaxKeyLength} characters");
        return id;
    }
}
