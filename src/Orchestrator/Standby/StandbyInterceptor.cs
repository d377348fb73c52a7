using Grpc.Core;
using Grpc.Core.Interceptors;

namespace SpectralDiffusion.Orchestrator.Standby;

/// <summary>
/// A standby refuses every spectral call with UNAVAILABLE, naming the active orchestrator, so that clients given both
/// addresses move on to it (health and reflection still answer). A call that is open when the term ends is broken off
/// at once: nothing it does afterwards is an active orchestrator's act.
/// </summary>
public sealed class StandbyInterceptor(Leadership leadership) : Interceptor
{
    /// <summary>A negative retry push-back: the channel's retry policy does not retry the refusal here, the client tries the next address.</summary>
    const string RetryPushback = "grpc-retry-pushback-ms";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        using var _ = Guard(context);
        return await continuation(request, context);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var _ = Guard(context);
        return await continuation(requestStream, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var _ = Guard(context);
        await continuation(request, responseStream, context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var _ = Guard(context);
        await continuation(requestStream, responseStream, context);
    }

    /// <summary>Refuses the call on a standby; otherwise breaks it off (the HTTP/2 stream is reset) once this process is one.</summary>
    IDisposable? Guard(ServerCallContext context)
    {
        if (!context.Method.StartsWith("/spectral.", StringComparison.Ordinal)) return null;
        if (!leadership.IsServing)
            throw new RpcException(new Status(StatusCode.Unavailable, StandbyMessage(leadership.ActiveAddress)), new Metadata { { RetryPushback, "-1" } });
        var http = context.GetHttpContext();
        return leadership.CallsEnded.Register(http.Abort);
    }

    public static string StandbyMessage(string active) =>
        "this orchestrator is a standby; " + (active.Length > 0 ? $"the active one is {active}" : "no orchestrator is active yet (it takes over when the lock frees)");
}
