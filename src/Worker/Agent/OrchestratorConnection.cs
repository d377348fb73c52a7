using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Rpc;
using SpectralDiffusion.Shared.Security;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>
/// The agent's gRPC channel to the orchestrator: the registration token on every call, the worker's own credential
/// (<see cref="UseCredential"/>) on every call after Register, and unary calls retried on UNAVAILABLE by the channel's
/// declared retry policy (a brief orchestrator restart is ridden out). Given an active orchestrator and its standbys
/// (<c>a,b</c>), it sends each call to the one that last answered and moves on after UNAVAILABLE (<see cref="FailoverInvoker"/>).
/// </summary>
public sealed class OrchestratorConnection : IDisposable
{
    public const string TokenHeader = WorkerCredentialHeaders.RegistrationToken;
    readonly GrpcChannel[] channels;
    volatile Credential? credential;

    public OrchestratorConnection(string address, string token)
    {
        var retry = new MethodConfig
        {
            Names = { MethodName.Default },
            RetryPolicy = new RetryPolicy
            {
                MaxAttempts = 5,
                InitialBackoff = TimeSpan.FromMilliseconds(200),
                MaxBackoff = TimeSpan.FromSeconds(3),
                BackoffMultiplier = 2,
                RetryableStatusCodes = { StatusCode.Unavailable },
            },
        };
        channels = OrchestratorAddress.ParseList(address, "--orchestrator / SD_ORCHESTRATOR").Select(uri => GrpcChannel.ForAddress(uri, new GrpcChannelOptions
        {
            ServiceConfig = new ServiceConfig { MethodConfigs = { retry } },
            MaxReceiveMessageSize = 16 * 1024 * 1024,
            MaxSendMessageSize = 16 * 1024 * 1024,
            // A restarted orchestrator is found within seconds (the default reconnect back-off grows to two minutes).
            MaxReconnectBackoff = TimeSpan.FromSeconds(5),
            HttpHandler = OrchestratorHttpHandler.Create(),
            DisposeHttpClient = true,
        })).ToArray();
        var invoker = new FailoverInvoker(channels.Select(channel => channel.CreateCallInvoker()).ToList()).Intercept(metadata =>
        {
            if (token.Length > 0) metadata.Add(TokenHeader, token);
            if (credential is { } current)
            {
                metadata.Add(WorkerCredentialHeaders.WorkerId, current.WorkerId);
                metadata.Add(WorkerCredentialHeaders.Secret, current.Secret);
            }
            return metadata;
        });
        Workers = new Workers.WorkersClient(invoker);
        Rendezvous = new Shared.Contracts.V1.Rendezvous.RendezvousClient(invoker);
    }

    public Workers.WorkersClient Workers { get; }

    /// <summary>From now on every call carries this registration's credential (RegisterWorkerResponse.worker_secret).</summary>
    public void UseCredential(string workerId, string secret) => credential = new Credential(workerId, secret);
    public Shared.Contracts.V1.Rendezvous.RendezvousClient Rendezvous { get; }

    public void Dispose()
    {
        foreach (var channel in channels) channel.Dispose();
    }

    sealed record Credential(string WorkerId, string Secret);
}
