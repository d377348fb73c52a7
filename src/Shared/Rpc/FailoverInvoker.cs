using Grpc.Core;

namespace SpectralDiffusion.Shared.Rpc;

/// <summary>
/// Sends every call to the orchestrator that last answered, out of an active one and its standbys. A call that fails
/// with UNAVAILABLE (a standby refuses with it, and a dead process cannot be reached) moves the calls after it to the next
/// address, so whoever repeats a call (the agent's outage retries, a reconnecting stream) finds the active one. A unary
/// call is also tried once on each address before its UNAVAILABLE reaches the caller. With one address it is that
/// address's invoker and nothing more.
/// </summary>
public sealed class FailoverInvoker : CallInvoker
{
    readonly CallInvoker[] invokers;
    int current;

    public FailoverInvoker(IReadOnlyList<CallInvoker> invokers)
    {
        if (invokers.Count == 0) throw new ArgumentException("at least one orchestrator address is needed", nameof(invokers));
        this.invokers = invokers.ToArray();
    }

    /// <summary>The index of the address the next call goes to.</summary>
    public int Current => Volatile.Read(ref current);

    /// <summary>The call on <paramref name="index"/> got UNAVAILABLE: move on, unless another call already has.</summary>
    void Failed(int index) => Interlocked.CompareExchange(ref current, (index + 1) % invokers.Length, index);

    bool IsFailover(RpcException e, int tried) => e.StatusCode == StatusCode.Unavailable && tried < invokers.Length;

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options,
        TRequest request)
    {
        for (var tried = 1; ; tried++)
        {
            var index = Current;
            try { return invokers[index].BlockingUnaryCall(method, host, options, request); }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                Failed(index);
                if (!IsFailover(e, tried)) throw;
            }
        }
    }

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host,
        CallOptions options, TRequest request)
    {
        if (invokers.Length == 1) return invokers[0].AsyncUnaryCall(method, host, options, request);
        var index = Current;
        var latest = invokers[index].AsyncUnaryCall(method, host, options, request);
        async Task<TResponse> RespondAsync()
        {
            for (var tried = 1; ; tried++)
            {
                try { return await latest.ResponseAsync; }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
                {
                    Failed(index);
                    if (!IsFailover(e, tried)) throw;
                }
                latest.Dispose();
                index = Current;
                latest = invokers[index].AsyncUnaryCall(method, host, options, request);
            }
        }
        var response = RespondAsync();
        return new AsyncUnaryCall<TResponse>(response,
            response.ContinueWith(_ => latest.ResponseHeadersAsync, TaskScheduler.Default).Unwrap(),
            () => latest.GetStatus(), () => latest.GetTrailers(), () => latest.Dispose());
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method,
        string? host, CallOptions options, TRequest request)
    {
        var index = Current;
        var call = invokers[index].AsyncServerStreamingCall(method, host, options, request);
        return invokers.Length == 1 ? call
            : new AsyncServerStreamingCall<TResponse>(new WatchedReader<TResponse>(call.ResponseStream, () => Failed(index)),
                call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method,
        string? host, CallOptions options)
    {
        var index = Current;
        var call = invokers[index].AsyncClientStreamingCall(method, host, options);
        return invokers.Length == 1 ? call
            : new AsyncClientStreamingCall<TRequest, TResponse>(call.RequestStream, Watch(call.ResponseAsync, index),
                call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method,
        string? host, CallOptions options)
    {
        var index = Current;
        var call = invokers[index].AsyncDuplexStreamingCall(method, host, options);
        return invokers.Length == 1 ? call
            : new AsyncDuplexStreamingCall<TRequest, TResponse>(call.RequestStream,
                new WatchedReader<TResponse>(call.ResponseStream, () => Failed(index)),
                call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    async Task<TResponse> Watch<TResponse>(Task<TResponse> response, int index)
    {
        try { return await response; }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
        {
            Failed(index);
            throw;
        }
    }

    /// <summary>A response stream that reports UNAVAILABLE while reading it.</summary>
    sealed class WatchedReader<T>(IAsyncStreamReader<T> inner, Action unavailable) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            try { return await inner.MoveNext(cancellationToken); }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
            {
                unavailable();
                throw;
            }
        }
    }
}
