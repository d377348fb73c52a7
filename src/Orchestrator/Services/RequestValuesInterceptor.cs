using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Services;

/// <summary>
/// Refuses, for every method at once, request values that no handler could store or act on: a NUL character in any
/// string and an enum number the contract does not define (INVALID_ARGUMENT naming each field; see <see cref="ProtoValues"/>).
/// Client streams are checked message by message as the handler reads them.
/// </summary>
public sealed class RequestValuesInterceptor : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(request);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(request);
        return continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        continuation(new CheckedReader<TRequest>(requestStream), context);

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        continuation(new CheckedReader<TRequest>(requestStream), responseStream, context);

    static void Check<TRequest>(TRequest request)
    {
        if (request is IMessage message && ProtoValues.Violations(message) is { Count: > 0 } violations)
            throw OrchestratorException.Invalid(violations);
    }

    sealed class CheckedReader<T>(IAsyncStreamReader<T> inner) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (!await inner.MoveNext(cancellationToken)) return false;
            Check(inner.Current);
            return true;
        }
    }
}
