using System.Security.Cryptography;
using Google.Protobuf;
using SpectralDiffusion.Shared.Contracts.V1;
using Xunit.Abstractions;
using static SpectralDiffusion.Orchestrator.Tests.FuzzCall;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>
/// The fuzz of <see cref="FuzzTests"/> aimed at a live attempt: mutated progress and evaluation reports, checkpoint
/// uploads and rendezvous calls with the attempt's real ids, so that they reach the code that stores them.
/// </summary>
public class LiveAttemptFuzzTests(FuzzFixture fixture, ITestOutputHelper output) : IClassFixture<FuzzFixture>
{
    readonly OrchestratorServer server = fixture.Server;

    [Fact]
    public async Task WorkerReports_MutatedReportsForALiveAttempt_NeverUnknownOrInternalAndNothingHalfWritten()
    {
        // Arrange: one worker runs a live attempt; mutated reports target it (its real ids, ranks and rendezvous).
        var fuzz = new Fuzz(FuzzTests.Seed + 1);
        var harness = new FuzzHarness(fixture, output);
        await using var worker = await FakeWorker.StartAsync(server.AsWorker, "fuzz-live-worker");
        var job = await new Jobs.JobsClient(server.AsSubmitter).SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1, name: "fuzz-live") });
        var start = await worker.NextStartAsync();
        await worker.ReportAsync(start, 1, ("loss", 1.0));
        fuzz.KnownIds.AddRange([worker.Id, job.Id, start.RendezvousId]);
        var workers = new Workers.WorkersClient(worker.Invoker);
        var rendezvous = new Rendezvous.RendezvousClient(worker.Invoker);

        // Act
        var (failures, accepted) = await harness.RunAsync(fuzz, FuzzTests.Iterations / 2, () => fuzz.Next(6) switch
        {
            0 or 1 => Unary("Workers/ReportProgress", fuzz.Mutated(Progress(start, worker.Id), fuzz.Next(4)), r => workers.ReportProgressAsync(r, deadline: Deadline())),
            2 => Unary("Workers/ReportEvaluation", fuzz.Mutated(Evaluation(start, worker.Id), fuzz.Next(4)), r => workers.ReportEvaluationAsync(r, deadline: Deadline())),
            3 => Shard(workers, fuzz, start),
            4 => Unary("Rendezvous/Put", fuzz.Mutated(new PutRequest { RendezvousId = start.RendezvousId, Key = "k", Value = ByteString.CopyFrom([1]) }, fuzz.Next(3)),
                r => rendezvous.PutAsync(r, deadline: Deadline())),
            _ => Unary("Rendezvous/Get", fuzz.Mutated(new GetRequest { RendezvousId = start.RendezvousId, Key = "k", Timeout = new() { Nanos = 1_000_000 } }, fuzz.Next(3)),
                r => rendezvous.GetAsync(r, deadline: DateTime.UtcNow.AddSeconds(1)), mayTimeOut: true),
        }, _ => { });

        // Assert
        Assert.True(failures.Count == 0, $"seed {fuzz.Seed}: {failures.Count} calls failed:\n" + string.Join("\n", failures.Take(12)));
        Assert.True(accepted.GetValueOrDefault("Workers/ReportProgress") > 0, "no fuzzed progress report was accepted");
        await harness.AssertStoredStateIsWholeAsync();
        await new Jobs.JobsClient(server.AsSubmitter).CancelAsync(new CancelJobRequest { Id = job.Id });
    }

    static FuzzCall Shard(Workers.WorkersClient client, Fuzz fuzz, AssignmentStart start)
    {
        var content = fuzz.Bytes(fuzz.Next(1, 300));
        var header = new ArtifactHeader
        {
            Kind = ArtifactKind.CheckpointShard, JobId = start.JobId, Attempt = start.Attempt, Rank = start.Rank, WorldSize = start.WorldSize,
            Step = fuzz.Next(40), Sha256 = Convert.ToHexStringLower(SHA256.HashData(content)), Size = content.Length,
        };
        return Upload(client, fuzz.Mutated(header, fuzz.Next(3)), content, headerFirst: true);
    }

    static ProgressReport Progress(AssignmentStart start, string workerId) => new()
    {
        WorkerId = workerId, JobId = start.JobId, Attempt = start.Attempt, Rank = start.Rank, Step = 2, TotalSteps = 40, Phase = "train",
        StepsPerSecond = 3, Metrics = { new MetricPoint { Step = 2, Name = "loss", Value = 0.5 } },
    };

    static EvaluationReport Evaluation(AssignmentStart start, string workerId) => new()
    {
        WorkerId = workerId, JobId = start.JobId, Attempt = start.Attempt, Preset = "tiny-ldm", NumSamples = 8, Fid = 12.5,
        LowFrequencyError = 0.1, HighFrequencyError = 0.2, Extra = { ["params"] = 1.6e6 },
    };
}
