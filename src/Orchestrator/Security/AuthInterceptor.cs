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
/// <c>x-api-key</c> with role <c>read</c> or <c>submit</c> (submit implies read). Missing or wrong → UNAUTHENTICATED,
/// with one message per kind of caller that does not say which part was wrong (the log says, without the secret);
/// a read key on a submit method, or a worker acting for another → PERMISSION_DENIED. Each UNAUTHENTICATED counts against
/// the caller's address (<see cref="FailedAuthentications"/>); an address out of tries gets RESOURCE_EXHAUSTED, right
/// credential or not, until its window ends, except a registered worker presenting its own credential. With no token or keys configured on a loopback-only server, those checks are open (local use; a warning is
/// logged at start); the per-worker credential is always checked.
/// </summary>
public sealed class AuthInterceptor(IOptions<SecurityOptions> options, WorkerCredentials workers, FailedAuthentications failures,
    ILogger<AuthInterceptor> logger) : Interceptor
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
        var credential = AccessPolicy.For(context.Method);
        if (credential != Credential.None && failures.IsBlocked(Client(context))
            && !(credential == Credential.WorkerIdentity && await IsRegisteredWorkerAsync(context, settings)))
        {
            logger.LogWarning("Rejected {Method} from {Peer}: too many failed authentications", context.Method, context.Peer);
            throw new RpcException(new Status(StatusCode.ResourceExhausted, FailedAuthentications.RefusedMessage));
        }
        switch (credential)
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
                if (key is null) Reject(context, StatusCode.Unauthenticated, presented is null ? "no API key" : "an API key that is not configured");
                else if (AccessPolicy.For(context.Method) == Credential.SubmitKey && key.Role != ApiKeyOptions.SubmitRole)
                    Reject(context, StatusCode.PermissionDenied, $"this API key has role '{key.Role}'; {context.Method} needs role '{ApiKeyOptions.SubmitRole}'");
                return;
        }
    }

    /// <summary>
    /// Whether the call carries the registration token and a registered worker's own credential. A worker that already
    /// holds its credential keeps working from an address that a guesser behind the same address has blocked: the
    /// credential is a random secret nobody guesses, and a call without it learns nothing (it gets the same refusal).
    /// </summary>
    async Task<bool> IsRegisteredWorkerAsync(ServerCallContext context, SecurityOptions settings)
    {
        if (settings.WorkerToken.Length > 0 && !SecretEquals(context.RequestHeaders.GetValue(WorkerTokenHeader), settings.WorkerToken)) return false;
        try
        {
            await workers.AuthenticateAsync(context.RequestHeaders, context.CancellationToken);
            return true;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated) { return false; }
    }

    void RequireWorkerToken(ServerCallContext context, SecurityOptions settings)
    {
        if (settings.WorkerToken.Length > 0 && !SecretEquals(context.RequestHeaders.GetValue(WorkerTokenHeader), settings.WorkerToken))
            Reject(context, StatusCode.Unauthenticated, "a missing or wrong registration token");
    }

    /// <summary>The worker a request names in its <c>worker_id</c> field, when it has one that is a worker id (a malformed one is the handler's to refuse).</summary>
    static Guid? ClaimedWorker(object? request) =>
        request is IMessage message && message.Descriptor.FindFieldByName("worker_id") is { FieldType: FieldType.String } field
        && Guid.TryParse((string)field.Accessor.GetValue(message), out var claimed) ? claimed : null;

    /// <summary>Refuses the call; an UNAUTHENTICATED refusal counts against the caller's address and tells the caller only
    /// what a caller of this kind presents, the <paramref name="reason"/> going to the log alone.</summary>
    void Reject(ServerCallContext context, StatusCode code, string reason)
    {
        logger.LogWarning("Rejected {Method} from {Peer}: {Status} {Reason}", context.Method, context.Peer, code, reason);
        if (code != StatusCode.Unauthenticated) throw new RpcException(new Status(code, reason));
        failures.RecordFailure(Client(context));
        throw new RpcException(new Status(code, AccessPolicy.For(context.Method) is Credential.ReadKey or Credential.SubmitKey
            ? $"authentication failed: present a valid API key ({ApiKeyHeader})"
            : $"authentication failed: present the registration token ({WorkerTokenHeader}) and, on calls that act as a worker, " +
              $"the credential Register issued ({Shared.Security.WorkerCredentialHeaders.WorkerId}, {Shared.Security.WorkerCredentialHeaders.Secret})"));
    }

    static System.Net.IPAddress? Client(ServerCallContext context) => context.GetHttpContext().Connection.RemoteIpAddress;

    static bool SecretEquals(string? presented, string expected) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected));
}
