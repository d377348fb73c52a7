using System.Security.Cryptography;
using Grpc.Core;
using SpectralDiffusion.Shared.Contracts.V1;
using Xunit.Abstractions;
using static SpectralDiffusion.Orchestrator.Tests.FuzzCall;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>
/// A bounded, seeded fuzz of the job specs and every RPC over real gRPC and PostgreSQL: random and mutated requests
/// (hostile strings, extreme numbers, undefined enums, malformed ids) must never end in UNKNOWN or INTERNAL, a refused
/// call must leave every table and the artifact store as they were, and what was accepted must be whole and valid.
/// SD_FUZZ_SEED and SD_FUZZ_ITERATIONS explore further; a failure names the seed, the call and the request.
/// </summary>
public class FuzzTests(FuzzFixture fixture, ITestOutputHelper output) : IClassFixture<FuzzFixture>
{
    readonly OrchestratorServer server = fixture.Server;

    public static int Seed => int.TryParse(Environment.GetEnvironmentVariable("SD_FUZZ_SEED"), out var seed) ? seed : 20261202;
    public static int Iterations => int.TryParse(Environment.GetEnvironmentVariable("SD_FUZZ_ITERATIONS"), out var count) ? count : 500;

    [Fact]
    public async Task AnyRpc_RandomAndMutatedInputs_NeverUnknownOrInternalAndNothingHalfWritten()
    {
        // Arrange: a registered worker that never opens its assignment stream, so no attempt is ever scheduled and every
        // table changes only through the fuzzed calls.
        var fuzz = new Fuzz(Seed);
        var harness = new FuzzHarness(fixture, output);
        var registered = await new Workers.WorkersClient(server.AsWorker).RegisterAsync(new RegisterWorkerRequest { Name = "fuzz-worker", Device = DeviceKind.Cpu });
        var clients = new Clients(server, server.AsWorkerWith(registered.WorkerId, registered.WorkerSecret), registered.WorkerId);
        fuzz.KnownIds.Add(registered.WorkerId);

        // Act
        var (failures, accepted) = await harness.RunAsync(fuzz, Iterations, () => NextCall(fuzz, clients), call =>
        {
            if (call.Method == "Jobs/Submit") fuzz.KnownIds.Add(clients.LastJobId);
        });

        // Assert
        Assert.True(failures.Count == 0, $"seed {fuzz.Seed}: {failures.Count} of {Iterations} calls failed:\n" + string.Join("\n", failures.Take(12)));
        Assert.True(accepted.GetValueOrDefault("Jobs/Submit") > 0, "no fuzzed spec was accepted: the fuzz only exercised validation");
        await harness.AssertStoredStateIsWholeAsync();
    }

    [Fact]
    public async Task AnyRpc_MalformedFramesOnTheWire_InvalidArgumentNeverUnknownAndServerKeepsServing()
    {
        // Arrange: every kind of caller (none, a submit key, the worker token, a registered worker) against unary,
        // server-streaming and client-streaming methods; field 1 of each target request is a string.
        var random = new Random(Seed);
        var registered = await new Workers.WorkersClient(server.AsWorker).RegisterAsync(new RegisterWorkerRequest { Name = "raw-frame-worker", Device = DeviceKind.Cpu });
        KeyValuePair<string, string>[][] callers =
        [
            [],
            [new("x-api-key", OrchestratorServer.SubmitKey)],
            [new("x-worker-token", OrchestratorServer.WorkerToken)],
            [new("x-worker-token", OrchestratorServer.WorkerToken), new(Shared.Security.WorkerCredentialHeaders.WorkerId, registered.WorkerId),
                new(Shared.Security.WorkerCredentialHeaders.Secret, registered.WorkerSecret)],
        ];
        string[] methods = ["spectral.v1.Jobs/Get", "spectral.v1.Jobs/Cancel", "spectral.v1.Jobs/Watch", "spectral.v1.Workers/Register",
            "spectral.v1.Workers/Heartbeat", "spectral.v1.Workers/DownloadArtifact", "spectral.v1.Rendezvous/Put"];
        var invalidUtf8 = new byte[] { 0x0A, 0x04, 0xC3, 0x28, 0xFF, 0xFE };        // field 1, 4 bytes that are not UTF-8
        var truncated = new byte[] { 0x0A, 0x20, (byte)'a', (byte)'b', (byte)'c' }; // field 1 says 32 bytes, 3 follow
        using var raw = new RawGrpcClient(server.Address);
        var failures = new List<string>();

        // Act
        foreach (var method in methods.Append("spectral.v1.Workers/UploadArtifact"))
            foreach (var caller in callers)
            {
                var randomBytes = new byte[random.Next(1, 64)];
                random.NextBytes(randomBytes);
                // A client stream is authenticated before its first message is read, so only the unary and server-streaming
                // calls must answer INVALID_ARGUMENT whoever calls.
                var clientStreaming = method.EndsWith("/UploadArtifact");
                var cases = new List<(string Name, byte[] Body, bool MustBeInvalid)> { ("truncated", truncated, !clientStreaming), ("random", randomBytes, false) };
                if (!clientStreaming) cases.Add(("invalid UTF-8", invalidUtf8, true));
                foreach (var (name, body, mustBeInvalid) in cases)
                {
                    var status = await raw.CallAsync(method, body, caller);
                    if (status is null or StatusCode.Unknown || (mustBeInvalid && status != StatusCode.InvalidArgument))
                        failures.Add($"{method} {name} [{string.Join(",", caller.Select(h => h.Key))}]: {status?.ToString() ?? "no grpc-status"}");
                }
            }
        var list = await new Jobs.JobsClient(server.AsReader).ListAsync(new ListJobsRequest(), deadline: Deadline());

        // Assert
        Assert.True(failures.Count == 0, $"seed {Seed}:\n" + string.Join("\n", failures));
        Assert.NotNull(list);
    }

    sealed class Clients(OrchestratorServer server, CallInvoker worker, string workerId)
    {
        public Jobs.JobsClient Jobs { get; } = new(server.AsSubmitter);
        public RunHistory.RunHistoryClient History { get; } = new(server.AsReader);
        public Workers.WorkersClient Registration { get; } = new(server.AsWorker);
        public Workers.WorkersClient Worker { get; } = new(worker);
        public Rendezvous.RendezvousClient Rendezvous { get; } = new(worker);
        public string WorkerId { get; } = workerId;
        public string LastJobId { get; set; } = "";
    }

    static FuzzCall NextCall(Fuzz fuzz, Clients c)
    {
        string Id() => fuzz.Chance(0.4) ? fuzz.String() : fuzz.Chance(0.5) && fuzz.KnownIds.Count > 0 ? fuzz.Pick(fuzz.KnownIds) : Guid.NewGuid().ToString();
        switch (fuzz.Next(24))
        {
            case < 9:
                var request = new SubmitJobRequest { Spec = fuzz.Chance(0.05) ? null : fuzz.Mutated(BaseSpec(fuzz), fuzz.Next(5)) };
                return new("Jobs/Submit", request, async () => c.LastJobId = (await c.Jobs.SubmitAsync(request, deadline: Deadline())).Id);
            case 9: return Unary("Jobs/Get", new GetJobRequest { Id = Id() }, r => c.Jobs.GetAsync(r, deadline: Deadline()));
            case 10: return Unary("Jobs/Cancel", new CancelJobRequest { Id = Id(), Reason = fuzz.String() }, r => c.Jobs.CancelAsync(r, deadline: Deadline()));
            case 11: return Streamed("Jobs/Watch", new WatchJobRequest { Id = fuzz.Chance(0.8) ? fuzz.String() : Guid.NewGuid().ToString() },
                r => c.Jobs.Watch(r, deadline: DateTime.UtcNow.AddSeconds(1)));
            case 12: return Unary("Jobs/List", fuzz.Mutated(new ListJobsRequest(), fuzz.Next(1, 5)), r => c.Jobs.ListAsync(r, deadline: Deadline()));
            case 13:
                return fuzz.Next(4) switch
                {
                    0 => Unary("RunHistory/ListRuns", fuzz.Mutated(new ListRunsRequest(), fuzz.Next(1, 4)), r => c.History.ListRunsAsync(r, deadline: Deadline())),
                    1 => Unary("RunHistory/GetMetricSeries", new GetMetricSeriesRequest { JobId = Id(), Name = fuzz.String() }, r => c.History.GetMetricSeriesAsync(r, deadline: Deadline())),
                    2 => Unary("RunHistory/ListEvaluations", fuzz.Mutated(new ListEvaluationsRequest(), fuzz.Next(1, 3)), r => c.History.ListEvaluationsAsync(r, deadline: Deadline())),
                    _ => Unary("RunHistory/ListCheckpoints", new ListCheckpointsRequest { JobId = Id() }, r => c.History.ListCheckpointsAsync(r, deadline: Deadline())),
                };
            case 14 or 15:
                return Unary("Workers/Register", fuzz.Mutated(new RegisterWorkerRequest { Name = $"fuzz-{Guid.NewGuid():N}", Device = DeviceKind.Cpu }, fuzz.Next(4)),
                    r => c.Registration.RegisterAsync(r, deadline: Deadline()));
            case 16: return Unary("Workers/Heartbeat", new HeartbeatRequest { WorkerId = fuzz.Chance(0.5) ? c.WorkerId : Id() }, r => c.Worker.HeartbeatAsync(r, deadline: Deadline()));
            case 17: return Unary("Workers/ReportProgress", fuzz.Mutated(new ProgressReport { WorkerId = c.WorkerId, JobId = Id(), Attempt = 1, Step = 1 }, fuzz.Next(5)),
                r => c.Worker.ReportProgressAsync(r, deadline: Deadline()));
            case 18: return Unary("Workers/CompleteAttempt", fuzz.Mutated(new AttemptResult { WorkerId = c.WorkerId, JobId = Id(), Attempt = 1 }, fuzz.Next(5)),
                r => c.Worker.CompleteAttemptAsync(r, deadline: Deadline()));
            case 19: return Unary("Workers/ReportEvaluation", fuzz.Mutated(new EvaluationReport { WorkerId = c.WorkerId, JobId = Id(), Attempt = 1 }, fuzz.Next(5)),
                r => c.Worker.ReportEvaluationAsync(r, deadline: Deadline()));
            case 20:
                // Another worker's or a malformed id only: this worker's own stream would let the scheduler assign it jobs.
                return Streamed("Workers/Assignments", new AssignmentsRequest { WorkerId = fuzz.Chance(0.5) ? fuzz.String() : Guid.NewGuid().ToString() },
                    r => c.Worker.Assignments(r, deadline: DateTime.UtcNow.AddSeconds(1)));
            case 21:
                return fuzz.Chance(0.5)
                    ? Unary("Rendezvous/Put", fuzz.Mutated(new PutRequest { RendezvousId = Id(), Key = "k" }, fuzz.Next(4)), r => c.Rendezvous.PutAsync(r, deadline: Deadline()))
                    : Unary("Rendezvous/Get", fuzz.Mutated(new GetRequest { RendezvousId = Id(), Key = "k" }, fuzz.Next(4)), r => c.Rendezvous.GetAsync(r, deadline: DateTime.UtcNow.AddSeconds(1)), mayTimeOut: true);
            case 22:
                return Streamed("Workers/DownloadArtifact", new DownloadArtifactRequest { Artifact = fuzz.Chance(0.3) ? "artifact:" + new string('a', 64) : fuzz.String() },
                    r => c.Registration.DownloadArtifact(r, deadline: Deadline()));
            default:
                return UploadFile(c.Worker, fuzz);
        }
    }

    static JobSpec BaseSpec(Fuzz fuzz)
    {
        var spec = Specs.Train(worldSize: fuzz.Pick([1, 2, 8]), maxRestarts: fuzz.Next(3), name: "fuzz");
        switch (fuzz.Next(3))
        {
            case 0:
                spec.Type = JobType.Distill;
                spec.Model.Preset = "tiny-sd";
                spec.Teacher = new ModelSpec { Preset = "tiny-ldm", Checkpoint = fuzz.Chance(0.5) ? FuzzFixture.DataRoot + "/teacher.safetensors" : "teacher.safetensors" };
                break;
            case 1:
                spec.Type = JobType.Evaluate;
                spec.Model.Checkpoint = "ffhq/sd.safetensors";
                spec.Evaluation = new EvaluationSpec { NumSamples = 8 };
                break;
        }
        return spec;
    }

    static FuzzCall UploadFile(Workers.WorkersClient client, Fuzz fuzz)
    {
        var content = fuzz.Bytes(fuzz.Next(1, 300));
        var header = new ArtifactHeader { Kind = ArtifactKind.File, Sha256 = Convert.ToHexStringLower(SHA256.HashData(content)), Size = content.Length, Name = "plot.png" };
        return Upload(client, fuzz.Mutated(header, fuzz.Next(3)), content, headerFirst: !fuzz.Chance(0.1));
    }
}
