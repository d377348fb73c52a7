using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using SpectralDiffusion.EndToEnd.Tests.Infrastructure;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Security;
using SpectralDiffusion.Worker.Agent;
using Xunit.Abstractions;

namespace SpectralDiffusion.EndToEnd.Tests.Agent;

/// <summary>The agent's heartbeats over the KeepAlive stream, against a real orchestrator process and against one that only has unary Heartbeat.</summary>
[Collection(EndToEndCollection.Name)]
public class HeartbeatStreamTests(ITestOutputHelper output)
{
    [Fact]
    public async Task BeatAsync_RealOrchestrator_RenewsTheLeaseOverTheStreamUntilTheWorkerIsGone()
    {
        // Arrange: a registered worker with its own credential.
        await using var cluster = await LocalCluster.StartAsync(output);
        var registered = await cluster.Workers.RegisterAsync(new RegisterWorkerRequest { Name = "keep-alive", Node = "test", Device = DeviceKind.Cpu });
        using var channel = GrpcChannel.ForAddress(cluster.Address);
        var client = new Workers.WorkersClient(channel.Intercept(metadata =>
        {
            metadata.Add("x-worker-token", LocalCluster.WorkerToken);
            metadata.Add(WorkerCredentialHeaders.WorkerId, registered.WorkerId);
            metadata.Add(WorkerCredentialHeaders.Secret, registered.WorkerSecret);
            return metadata;
        }));
        using var heartbeats = new HeartbeatStream(client, registered.WorkerId, TimeSpan.FromSeconds(10));

        // Act: three beats 300 ms apart, then the worker deregisters and beats once more.
        var leases = new List<DateTime>();
        for (var i = 0; i < 3; i++)
        {
            var before = DateTime.UtcNow;
            leases.Add(await heartbeats.BeatAsync(CancellationToken.None));
            Assert.InRange(leases[^1], before + registered.Lease.ToTimeSpan() - TimeSpan.FromSeconds(1), DateTime.UtcNow + registered.Lease.ToTimeSpan() + TimeSpan.FromSeconds(1));
            await Task.Delay(300);
        }
        await client.DeregisterAsync(new DeregisterRequest { WorkerId = registered.WorkerId, Reason = "test" });
        var gone = await Assert.ThrowsAsync<RpcException>(() => heartbeats.BeatAsync(CancellationToken.None));

        // Assert: the stream served every beat, each lease later than the last; a gone worker hears NOT_FOUND.
        Assert.False(heartbeats.UsesUnary);
        Assert.True(leases[0] < leases[1] && leases[1] < leases[2], string.Join(", ", leases.Select(l => l.ToString("O"))));
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
        Assert.Contains("worker gone", gone.Status.Detail);
    }

    [Fact]
    public async Task BeatAsync_OrchestratorWithoutKeepAlive_FallsBackToUnaryHeartbeat()
    {
        // Arrange: a gRPC server whose Workers service has only unary Heartbeat (KeepAlive answers UNIMPLEMENTED).
        var (app, channel) = await ServeAsync<UnaryOnlyWorkers>();
        await using var _ = app;
        using var __ = channel;
        using var heartbeats = new HeartbeatStream(new Workers.WorkersClient(channel), "any-worker", TimeSpan.FromSeconds(10));

        // Act
        var first = await heartbeats.BeatAsync(CancellationToken.None);
        var second = await heartbeats.BeatAsync(CancellationToken.None);

        // Assert: both beats went through unary Heartbeat, whose answers they return.
        Assert.True(heartbeats.UsesUnary);
        Assert.Equal((UnaryOnlyWorkers.Lease, UnaryOnlyWorkers.Lease), (first, second));
        Assert.Equal(2, UnaryOnlyWorkers.Calls);
        await app.StopAsync();
    }

    [Fact]
    public async Task BeatAsync_StreamStaysSilent_GivesUpAfterTheTimeoutAndTheNextBeatOpensAFreshStream()
    {
        // Arrange: a server whose first KeepAlive stream reads beats but never answers (as a connection to a killed
        // orchestrator can swallow them); later streams answer.
        var (app, channel) = await ServeAsync<FirstStreamSilentWorkers>();
        await using var _ = app;
        using var __ = channel;
        using var heartbeats = new HeartbeatStream(new Workers.WorkersClient(channel), "any-worker", TimeSpan.FromMilliseconds(500));

        // Act
        var silent = await Assert.ThrowsAsync<RpcException>(() => heartbeats.BeatAsync(CancellationToken.None));
        var answered = await heartbeats.BeatAsync(CancellationToken.None);
        var again = await heartbeats.BeatAsync(CancellationToken.None);

        // Assert: the silent beat is UNAVAILABLE (the agent retries those); the next two share one new stream.
        Assert.Equal(StatusCode.Unavailable, silent.StatusCode);
        Assert.Contains("no answer on the heartbeat stream within 0.5 s", silent.Status.Detail);
        Assert.Equal((FirstStreamSilentWorkers.Lease, FirstStreamSilentWorkers.Lease), (answered, again));
        Assert.Equal(2, FirstStreamSilentWorkers.Streams);
        Assert.False(heartbeats.UsesUnary);
        await app.StopAsync();
    }

    /// <summary>A gRPC server on a free loopback port with <typeparamref name="TService"/> as its only service, and a channel to it.</summary>
    static async Task<(WebApplication App, GrpcChannel Channel)> ServeAsync<TService>() where TService : class
    {
        var port = LocalCluster.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenLocalhost(port, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        var app = builder.Build();
        app.MapGrpcService<TService>();
        await app.StartAsync();
        return (app, GrpcChannel.ForAddress($"http://localhost:{port}"));
    }

    /// <summary>
    /// spectral.v1.Workers as an orchestrator from before KeepAlive serves it: only Heartbeat is bound (the generated
    /// server bases are internal to the orchestrator), so gRPC answers KeepAlive with UNIMPLEMENTED.
    /// </summary>
    [BindServiceMethod(typeof(UnaryOnlyWorkers), nameof(Bind))]
    public class UnaryOnlyWorkers
    {
        public static readonly DateTime Lease = new(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        static readonly Method<HeartbeatRequest, HeartbeatResponse> HeartbeatMethod = new(MethodType.Unary, "spectral.v1.Workers", "Heartbeat",
            Marshallers.Create(m => m.ToByteArray(), HeartbeatRequest.Parser.ParseFrom), Marshallers.Create(m => m.ToByteArray(), HeartbeatResponse.Parser.ParseFrom));
        static int calls;
        public static int Calls => calls;

        public static void Bind(ServiceBinderBase binder, UnaryOnlyWorkers? service) =>
            binder.AddMethod(HeartbeatMethod, service is null ? null : service.Heartbeat);

        // Virtual, declared on the class that binds it: how ASP.NET Core gRPC recognises a service method.
        public virtual Task<HeartbeatResponse> Heartbeat(HeartbeatRequest request, ServerCallContext context)
        {
            Interlocked.Increment(ref calls);
            return Task.FromResult(new HeartbeatResponse { LeaseExpiresAt = Timestamp.FromDateTime(Lease) });
        }
    }

    /// <summary>spectral.v1.Workers with only KeepAlive bound: its first stream never answers, later ones answer every beat.</summary>
    [BindServiceMethod(typeof(FirstStreamSilentWorkers), nameof(Bind))]
    public class FirstStreamSilentWorkers
    {
        public static readonly DateTime Lease = new(2031, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        static readonly Method<HeartbeatRequest, HeartbeatResponse> KeepAliveMethod = new(MethodType.DuplexStreaming, "spectral.v1.Workers", "KeepAlive",
            Marshallers.Create(m => m.ToByteArray(), HeartbeatRequest.Parser.ParseFrom), Marshallers.Create(m => m.ToByteArray(), HeartbeatResponse.Parser.ParseFrom));
        static int streams;
        public static int Streams => streams;

        public static void Bind(ServiceBinderBase binder, FirstStreamSilentWorkers? service) =>
            binder.AddMethod(KeepAliveMethod, service is null ? null : service.KeepAlive);

        public virtual async Task KeepAlive(IAsyncStreamReader<HeartbeatRequest> requests, IServerStreamWriter<HeartbeatResponse> responses, ServerCallContext context)
        {
            var first = Interlocked.Increment(ref streams) == 1;
            try
            {
                while (await requests.MoveNext(context.CancellationToken))
                    if (!first) await responses.WriteAsync(new HeartbeatResponse { LeaseExpiresAt = Timestamp.FromDateTime(Lease) });
            }
            catch (OperationCanceledException) { }
            catch (IOException) { }
        }
    }
}
