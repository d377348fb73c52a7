using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Npgsql;
using Polly.CircuitBreaker;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;
using Status = Google.Rpc.Status;

namespace SpectralDiffusion.Orchestrator.Services;

/// <summary>
/// Turns domain refusals into gRPC statuses: <see cref="OrchestratorException"/> by its kind (INVALID_ARGUMENT carries a
/// google.rpc.BadRequest with one field violation per field), illegal job moves → FAILED_PRECONDITION, a database that
/// stays unreachable after the retries → UNAVAILABLE.
/// </summary>
public sealed class ErrorMappingInterceptor(ILogger<ErrorMappingInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(request, context); }
        catch (Exception e) when (Map(e, context) is { } mapped) { throw mapped; }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(requestStream, context); }
        catch (Exception e) when (Map(e, context) is { } mapped) { throw mapped; }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(request, responseStream, context); }
        catch (Exception e) when (Map(e, context) is { } mapped) { throw mapped; }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(requestStream, responseStream, context); }
        catch (Exception e) when (Map(e, context) is { } mapped) { throw mapped; }
    }

    RpcException? Map(Exception exception, ServerCallContext context)
    {
        switch (exception)
        {
            case OrchestratorException refusal:
                logger.LogInformation("{Method} refused: {Kind} {Reason}", context.Method, refusal.Kind, refusal.Message);
                return ToRpc(refusal);
            case IllegalJobTransitionException illegal:
                return new RpcException(new Grpc.Core.Status(StatusCode.FailedPrecondition, illegal.Message));
            case NpgsqlException or BrokenCircuitException when exception is BrokenCircuitException || DatabaseResilience.IsTransient(exception):
                logger.LogError(exception, "{Method} failed: PostgreSQL unavailable after retries", context.Method);
                return new RpcException(new Grpc.Core.Status(StatusCode.Unavailable, "the orchestrator's database is unavailable; retry later"));
            default:
                return null;
        }
    }

    static RpcException ToRpc(OrchestratorException refusal)
    {
        var code = refusal.Kind switch
        {
            OrchestratorErrorKind.InvalidArgument => Code.InvalidArgument,
            OrchestratorErrorKind.NotFound => Code.NotFound,
            OrchestratorErrorKind.AlreadyExists => Code.AlreadyExists,
            OrchestratorErrorKind.FailedPrecondition => Code.FailedPrecondition,
            OrchestratorErrorKind.PermissionDenied => Code.PermissionDenied,
            OrchestratorErrorKind.DataLoss => Code.DataLoss,
            OrchestratorErrorKind.DeadlineExceeded => Code.DeadlineExceeded,
            OrchestratorErrorKind.Aborted => Code.Aborted,
            _ => Code.Unknown,
        };
        var status = new Status { Code = (int)code, Message = refusal.Message };
        if (refusal.Violations.Count > 0)
            status.Details.Add(Any.Pack(new BadRequest
            {
                FieldViolations = { refusal.Violations.Select(v => new BadRequest.Types.FieldViolation { Field = v.Field, Description = v.Description }) },
            }));
        return status.ToRpcException();
    }
}
