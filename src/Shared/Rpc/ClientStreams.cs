using Grpc.Core;

namespace SpectralDiffusion.Shared.Rpc;

/// <summary>Client-streaming calls whose server may refuse the request before it has read the whole stream.</summary>
public static class ClientStreams
{
    /// <summary>
    /// Writes every message, completes the request stream and returns the response. When the server ends the call
    /// early (it refused the first message, say), the next write fails with a bare Cancelled or an
    /// InvalidOperationException; the reason is in the call's status, so this waits for the response and throws the
    /// server's <see cref="RpcException"/> instead. A failure that did not come from the server is rethrown as it was.
    /// </summary>
    public static async Task<TResponse> SendAllAsync<TRequest, TResponse>(AsyncClientStreamingCall<TRequest, TResponse> call,
        IAsyncEnumerable<TRequest> messages, CancellationToken ct = default)
    {
        try
        {
            await foreach (var message in messages.WithCancellation(ct))
                await call.RequestStream.WriteAsync(message, ct);
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception writeFailure) when (writeFailure is RpcException or InvalidOperationException && !ct.IsCancellationRequested)
        {
            // The response carries the server's status; if it somehow succeeded, the write failure stands.
            await call.ResponseAsync;
            throw;
        }
        return await call.ResponseAsync;
    }
}
