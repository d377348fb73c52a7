using System.Security.Cryptography;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Rpc;
using SpectralDiffusion.Shared.Security;

namespace SpectralDiffusion.Orchestrator.Tests;

/// <summary>
/// A worker agent reduced to its protocol: registers, then calls with the credential it was issued, heartbeats, keeps its
/// assignment stream open (reopening it if the server goes away), and reports what a test tells it to. <see cref="Hang"/> stops heartbeats (a hung process);
/// <see cref="Kill"/> also drops the stream (a crashed one).
/// </summary>
public sealed class FakeWorker : IAsyncDisposable
{
    readonly Workers.WorkersClient client;
    readonly CancellationTokenSource heartbeats = new();
    readonly CancellationTokenSource stream = new();
    readonly Channel<Assignment> orders = Channel.CreateUnbounded<Assignment>();
    readonly TimeSpan interval;
    Task heartbeatLoop = Task.CompletedTask;
    Task streamLoop = Task.CompletedTask;

    FakeWorker(CallInvoker invoker, string id, string secret, TimeSpan interval)
    {
        Invoker = invoker.Intercept(metadata =>
        {
            metadata.Add(WorkerCredentialHeaders.WorkerId, id);
            metadata.Add(WorkerCredentialHeaders.Secret, secret);
            return metadata;
        });
        client = new Workers.WorkersClient(Invoker);
        Id = id;
        Secret = secret;
        this.interval = interval;
    }

    public string Id { get; }
    public string Secret { get; }
    /// <summary>Calls as this worker: the registration token plus its credential (for rendezvous clients).</summary>
    public CallInvoker Invoker { get; }
    public int HeartbeatFailures { get; private set; }
    public int Heartbeats { get; private set; }
    public Workers.WorkersClient Client => client;

    public static async Task<FakeWorker> StartAsync(CallInvoker invoker, string name, DeviceKind device = DeviceKind.Cpu)
    {
        var client = new Workers.WorkersClient(invoker);
        var registered = await client.RegisterAsync(new RegisterWorkerRequest { Name = name, Node = "test-node", Device = device, Address = "127.0.0.1" });
        var worker = new FakeWorker(invoker, registered.WorkerId, registered.WorkerSecret, registered.HeartbeatInterval.ToTimeSpan());
        worker.heartbeatLoop = worker.HeartbeatAsync();
        worker.streamLoop = worker.StreamAsync();
        return worker;
    }

    async Task HeartbeatAsync()
    {
        while (!heartbeats.IsCancellationRequested)
        {
            try
            {
                await client.HeartbeatAsync(new HeartbeatRequest { WorkerId = Id }, cancellationToken: heartbeats.Token);
                Heartbeats++;
            }
            catch (RpcException) when (!heartbeats.IsCancellationRequested) { HeartbeatFailures++; }
            catch (RpcException) { return; }
            try { await Task.Delay(interval, heartbeats.Token); } catch (OperationCanceledException) { return; }
        }
    }

    async Task StreamAsync()
    {
        while (!stream.IsCancellationRequested)
        {
            try
            {
                using var call = client.Assignments(new AssignmentsRequest { WorkerId = Id }, cancellationToken: stream.Token);
                await foreach (var order in call.ResponseStream.ReadAllAsync(stream.Token)) orders.Writer.TryWrite(order);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound) { return; }
            catch (RpcException) when (!stream.IsCancellationRequested) { }
            catch (Exception) when (stream.IsCancellationRequested) { return; }
            try { await Task.Delay(100, stream.Token); } catch (OperationCanceledException) { return; }
        }
    }

    public async Task<Assignment> NextOrderAsync(TimeSpan? timeout = null) =>
        await orders.Reader.ReadAsync(new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10)).Token);

    public async Task<AssignmentStart> NextStartAsync(TimeSpan? timeout = null)
    {
        var order = await NextOrderAsync(timeout);
        return order.Start ?? throw new InvalidOperationException($"expected a start order, got {order}");
    }

    public async Task<AssignmentAbort> NextAbortAsync(TimeSpan? timeout = null)
    {
        var order = await NextOrderAsync(timeout);
        return order.Abort ?? throw new InvalidOperationException($"expected an abort order, got {order}");
    }

    public bool HasPendingOrder => orders.Reader.TryPeek(out _);

    public Task ReportAsync(AssignmentStart start, long step, params (string Name, double Value)[] metrics)
    {
        var report = new ProgressReport
        {
            WorkerId = Id, JobId = start.JobId, Attempt = start.Attempt, Rank = start.Rank, Step = step,
            TotalSteps = start.Spec.Schedule.Steps, Phase = "train", StepsPerSecond = 10,
        };
        report.Metrics.AddRange(metrics.Select(m => new MetricPoint { Step = step, Name = m.Name, Value = m.Value }));
        return client.ReportProgressAsync(report).ResponseAsync;
    }

    public async Task<ArtifactReceipt> UploadAsync(ArtifactHeader header, byte[] content, int chunk = 64 * 1024)
    {
        using var call = client.UploadArtifact();
        return await ClientStreams.SendAllAsync(call, Chunks(header, content, chunk).ToAsyncEnumerable());
    }

    static IEnumerable<ArtifactChunk> Chunks(ArtifactHeader header, byte[] content, int chunk)
    {
        yield return new ArtifactChunk { Header = header };
        for (var offset = 0; offset < content.Length; offset += chunk)
            yield return new ArtifactChunk { Data = ByteString.CopyFrom(content, offset, Math.Min(chunk, content.Length - offset)) };
    }

    public Task<ArtifactReceipt> UploadShardAsync(AssignmentStart start, long step, byte[] content) =>
        UploadAsync(new ArtifactHeader
        {
            Kind = ArtifactKind.CheckpointShard, JobId = start.JobId, Attempt = start.Attempt, Rank = start.Rank,
            WorldSize = start.WorldSize, Step = step, Sha256 = Sha256(content), Size = content.Length,
        }, content);

    public Task CompleteAsync(AssignmentStart start, bool succeeded = true, string error = "", string finalArtifact = "",
        FailureKind failure = FailureKind.Unspecified) =>
        client.CompleteAttemptAsync(new AttemptResult
        {
            WorkerId = Id, JobId = start.JobId, Attempt = start.Attempt, Rank = start.Rank, Succeeded = succeeded,
            Error = error, FinalArtifact = finalArtifact, Failure = failure,
        }).ResponseAsync;

    public static string Sha256(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>Stops heartbeating but keeps the stream open: only the lease can reveal it.</summary>
    public void Hang() => heartbeats.Cancel();

    /// <summary>Stops heartbeating and drops the stream, like a crashed process.</summary>
    public void Kill()
    {
        heartbeats.Cancel();
        stream.Cancel();
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await Task.WhenAll(heartbeatLoop, streamLoop);
    }
}
