using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;
using SpectralDiffusion.Orchestrator.Hosting;

namespace SpectralDiffusion.Orchestrator.Security;

/// <summary>
/// Workers present <c>x-worker-token</c>; clients present <c>x-api-key</c> with role <c>read</c> or <c>submit</c> (submit implies read).
/// Missing or wrong → UNAUTHENTICATED; a read key on a submit method → PERMISSION_DENIED. Rejections are logged without the secret.
/// With no token or keys configured on a loopback-only server, that check is open (local use; a warning is logged at start).
/// </summary>
public sealed class AuthInterceptor(IOptions<OrchestratorOptions> options, ILogger<AuthInterceptor> logger) : Interceptor
{
    public const string WorkerTokenHeader = "x-worker-token";
    public const string ApiKeyHeader = "x-api-key";

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, responseStream, context);
    }

    void Authorize(ServerCallContext context)
    {
        var settings = options.Value;
        switch (AccessPolicy.For(context.Method))
        {
            case Credential.WorkerToken:
                if (settings.WorkerToken.Length == 0) return;
                if (!SecretEquals(context.RequestHeaders.GetValue(WorkerTokenHeader), settings.WorkerToken))
                    Reject(context, StatusCode.Unauthenticated, $"a valid worker registration token ({WorkerTokenHeader}) is required");
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

    void Reject(ServerCallContext context, StatusCode code, string message)
    {
        logger.LogWarning("Rejected {Method} from {Peer}: {Status} {Reason}", context.Method, context.Peer, code, message);
        throw new RpcException(new Status(code, message));
    }

    static bool SecretEquals(string? presented, string expected) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected));
}
