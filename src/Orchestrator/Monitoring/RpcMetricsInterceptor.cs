using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace SpectralDiffusion.Orchestrator.Monitoring;

/// <summary>
/// Counts every gRPC call with its status code and duration (<see cref="OrchestratorMetrics.RpcFinished"/>). Registered
/// first, so it sees the status the client sees: refusals by authentication and by the error mapping included.
/// </summary>
public sealed class RpcMetricsInterceptor(OrchestratorMetrics metrics) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation) =>
        CountedAsync(context, () => continuation(request, context));

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        CountedAsync(context, () => continuation(requestStream, context));

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        CountedAsync(context, async () =>
        {
            await continuation(request, responseStream, context);
            return true;
        });

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        CountedAsync(context, async () =>
        {
            await continuation(requestStream, responseStream, context);
            return true;
        });

    async Task<T> CountedAsync<T>(ServerCallContext context, Func<Task<T>> call)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var result = await call();
            Finished(context, started, null);
            return result;
        }
        catch (Exception e)
        {
            Finished(context, started, e);
            throw;
        }
    }

    /// <summary>An RpcException carries its status; a call cancelled by the client is CANCELLED; any other exception reaches the client as UNKNOWN.</summary>
    void Finished(ServerCallContext context, long started, Exception? failure)
    {
        var code = failure switch
        {
            null => context.Status.StatusCode,
            RpcException rpc => rpc.StatusCode,
            OperationCanceledException when context.CancellationToken.IsCancellationRequested => StatusCode.Cancelled,
            _ => StatusCode.Unknown,
        };
        metrics.RpcFinished(context.Method, code, Stopwatch.GetElapsedTime(started));
    }
}
