using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace SpectralDiffusion.Orchestrator.Security;

/// <summary>
/// Workers present <c>x-worker-token</c>, and after Register also their own credential (<see cref="WorkerCredentials"/>):
/// a call that names a <c>worker_id</c> must name the worker the credential belongs to. Clients present
/// <c>x-api-key</c> with role <c>read</c> or <c>submit</c> (submit implies read). Missing or wrong → UNAUTHENTICATED;
/// a read key on a submit method, or a worker acting for another → PERMISSION_DENIED. Rejections are logged without the
/// secret. With no token or keys configured on a loopback-only server, those checks are open (local use; a warning is
/// logged at start); the per-worker credential is always checked.
/// </summary>
public sealed class AuthInterceptor(IOptions<SecurityOptions> options, WorkerCredentials workers, ILogger<AuthInterceptor> logger) : Interceptor
{
    public const string WorkerTokenHeader = Shared.Security.WorkerCredentialHeaders.RegistrationToken;
    public const string ApiKeyHeader = Shared.Security.ClientCredentialHeaders.ApiKey;
    /// <summary>Where the authenticated worker's id is left for the handler (<see cref="ServerCallContext.UserState"/>).</summary>
    public const string WorkerIdKey = "worker-id";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context, request);
        return await continuation(request, context);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context, null);
        return await continuation(requestStream, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context, request);
        await continuation(request, responseStream, context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthorizeAsync(context, null);
        await continuation(requestStream, responseStream, context);
    }

    async Task AuthorizeAsync(ServerCallContext context, object? request)
    {
        var settings = options.Value;
        switch (AccessPolicy.For(context.Method))
        {
            case Credential.WorkerToken:
                RequireWorkerToken(context, settings);
                return;
            case Credential.WorkerIdentity:
                RequireWorkerToken(context, settings);
                Guid worker;
                try { worker = await workers.AuthenticateAsync(context.RequestHeaders, context.CancellationToken); }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated)
                {
                    Reject(context, e.StatusCode, e.Status.Detail);
                    return;
                }
                context.UserState[WorkerIdKey] = worker;
                if (ClaimedWorker(request) is { } claimed && claimed != worker)
                    Reject(context, StatusCode.PermissionDenied,
                        $"worker_id {claimed}: this call's credential belongs to worker {worker}, which may act only as itself");
                return;
            case Credential.ReadKey or Credential.SubmitKey when settings.ApiKeys.Count > 0:
                var presented = context.RequestHeaders.GetValue(ApiKeyHeader);
                var key = settings.ApiKeys.FirstOrDefault(k => SecretEquals(presented, k.Key));
                if (key is null) Reject(context, StatusCode.Unauthenticated, $"a valid API key ({ApiKeyHeader}) is required");
                else if (AccessPolicy.For(context.Method) == Credential.SubmitKey && key.Role != ApiKeyOptions.SubmitRole)
                    Reject(context, StatusCode.PermissionDenied, $"this API key has role '{key.Role}'; {context.Method} needs role '{ApiKeyOptions.SubmitRole}'");
                return;
        }
    }

    void RequireWorkerToken(ServerCallContext context, SecurityOptions settings)
    {
        if (settings.WorkerToken.Length > 0 && !SecretEquals(context.RequestHeaders.GetValue(WorkerTokenHeader), settings.WorkerToken))
            Reject(context, StatusCode.Unauthenticated, $"a valid worker registration token ({WorkerTokenHeader}) is required");
    }

    /// <summary>The worker a request names in its <c>worker_id</c> field, when it has one that is a worker id (a malformed one is the handler's to refuse).</summary>
    static Guid? ClaimedWorker(object? request) =>
        request is IMessage message && message.Descriptor.FindFieldByName("worker_id") is { FieldType: FieldType.String } field
        && Guid.TryParse((string)field.Accessor.GetValue(message), out var claimed) ? claimed : null;

    void Reject(ServerCallContext context, StatusCode code, string message)
    {
        logger.LogWarning("Rejected {Method} from {Peer}: {Status} {Reason}", context.Method, context.Peer, code, message);
        throw new RpcException(new Status(code, message));
    }

    static bool SecretEquals(string? presented, string expected) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected));
}
