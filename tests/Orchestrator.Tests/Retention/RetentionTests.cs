using Grpc.Core;
using SpectralDiffusion.Orchestrator.Artifacts;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Retention;

/// <summary>The background pass is off here (interval 0): each test runs the policy through CollectGarbage, against real
/// PostgreSQL rows and real files in the artifact store.</summary>
public sealed class RetentionFixture : ServerFixture
{
    protected override IDictionary<string, string?> Overrides => new Dictionary<string, string?>
    {
        ["Orchestrator:RetentionInterval"] = "00:00:00",
        ["Orchestrator:RetainCheckpoints"] = "2",
        ["Orchestrator:OrphanFileAge"] = "00:10:00",
    };
}

/// <summary>What the retention policy removes (rows and files together), and what it never removes.</summary>
public class RetentionTests(RetentionFixture fixture) : IClassFixture<RetentionFixture>
{
    readonly OrchestratorServer server = fixture.Server;
    Jobs.JobsClient Jobs => new(server.AsSubmitter);
    ArtifactStore Store => new(server.ArtifactRoot);

    [Fact]
    public async Task CollectGarbage_FinishedJobWithFourCheckpoints_RemovesAllButTheLastTwoAndKeepsTheModel()
    {
        // Arrange: a job that wrote checkpoints at steps 10..40 and a final model, then succeeded.
        await using var worker = await FakeWorker.StartAsync(server.AsWorker, "retention-finished");
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1) });
        var start = await worker.NextStartAsync();
        var shards = new Dictionary<long, byte[]>();
        foreach (var step in new long[] { 10, 20, 30, 40 })
            await worker.UploadShardAsync(start, step, shards[step] = Content($"{job.Id} shard {step}", 1000 + (int)step));
        var model = await UploadModelAsync(worker, start, Content($"{job.Id} model", 3000));
        await worker.CompleteAsync(start, finalArtifact: model);
        await Eventually.ReturnsAsync(() => StateAsync(job.Id), state => state == "SUCCEEDED");

        // Act: a dry run, then the real pass.
        var dryRun = await Jobs.CollectGarbageAsync(new CollectGarbageRequest { DryRun = true });
        var afterDryRun = await CheckpointStepsAsync(job.Id);
        var filesAfterDryRun = shards.Values.Count(content => Store.Exists(FakeWorker.Sha256(content)));
        var collected = await Jobs.CollectGarbageAsync(new CollectGarbageRequest());

        // Assert: both name steps 10 and 20 with their bytes; only the real pass removed their rows and files.
        Assert.True(dryRun.DryRun);
        Assert.Equal(["step 10", "step 20"], Checkpoints(dryRun, job.Id));
        Assert.Equal(1010 + 1020, BytesOf(dryRun, job.Id));
        Assert.True(dryRun.BytesFreed >= 1010 + 1020);
        Assert.Equal([10L, 20L, 30L, 40L], afterDryRun);
        Assert.Equal(4, filesAfterDryRun);
        Assert.Equal(["step 10", "step 20"], Checkpoints(collected, job.Id));
        Assert.Equal(1010 + 1020, BytesOf(collected, job.Id));
        Assert.True(collected.FilesRemoved >= 2);
        Assert.Equal([30L, 40L], await CheckpointStepsAsync(job.Id));
        Assert.False(Store.Exists(FakeWorker.Sha256(shards[10])));
        Assert.False(Store.Exists(FakeWorker.Sha256(shards[20])));
        Assert.True(Store.Exists(FakeWorker.Sha256(shards[30])));
        Assert.True(Store.Exists(FakeWorker.Sha256(shards[40])));
        Assert.True(Store.Exists(model["artifact:".Length..]));
        Assert.Equal(0, await fixture.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM artifacts WHERE sha256 IN ('{FakeWorker.Sha256(shards[10])}', '{FakeWorker.Sha256(shards[20])}')"));
        Assert.DoesNotContain((await Jobs.CollectGarbageAsync(new CollectGarbageRequest())).Items, i => i.JobId == job.Id);
    }

    [Fact]
    public async Task CollectGarbage_RestartedJobKeepingNoCheckpoints_NeverRemovesTheResumeCheckpointOrTheNewest()
    {
        // Arrange: a job whose policy keeps no checkpoints writes steps 10 and 20, fails transiently, and its second
        // attempt resumes from step 20 and writes step 30.
        await using var worker = await FakeWorker.StartAsync(server.AsWorker, "retention-running");
        var spec = Specs.Train(worldSize: 1, maxRestarts: 1);
        spec.Retention = new RetentionSpec { KeepCheckpoints = 0 };
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = spec });
        var first = await worker.NextStartAsync();
        foreach (var step in new long[] { 10, 20 }) await worker.UploadShardAsync(first, step, Content($"{job.Id} shard {step}", 500));
        await worker.CompleteAsync(first, succeeded: false, error: "lost a peer", failure: FailureKind.Transient);
        await worker.NextAbortAsync();
        var second = await worker.NextStartAsync();
        await worker.UploadShardAsync(second, 30, Content($"{job.Id} shard 30", 500));

        // Act
        var collected = await Jobs.CollectGarbageAsync(new CollectGarbageRequest());
        var steps = await CheckpointStepsAsync(job.Id);

        // Assert: the running attempt resumed from 20, and 20 (its resume checkpoint) and 30 (the newest) stay, files too.
        Assert.Equal(20, second.ResumeFrom.Step);
        Assert.Equal(["step 10"], Checkpoints(collected, job.Id));
        Assert.Equal([20L, 30L], steps);
        Assert.All(second.ResumeFrom.ShardArtifacts, shard => Assert.True(Store.Exists(shard["artifact:".Length..])));
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
    }

    [Fact]
    public async Task CollectGarbage_ModelNotKeptButAQueuedJobStartsFromIt_KeepsTheModelUntilThatJobEnds()
    {
        // Arrange: a finished job whose policy drops its final model, and a queued job (no worker for cuda) that starts from it.
        await using var worker = await FakeWorker.StartAsync(server.AsWorker, "retention-model");
        var spec = Specs.Train(worldSize: 1);
        spec.Retention = new RetentionSpec { KeepFinalModel = false };
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = spec });
        var start = await worker.NextStartAsync();
        var model = await UploadModelAsync(worker, start, Content($"{job.Id} model", 2000));
        await worker.CompleteAsync(start, finalArtifact: model);
        await Eventually.ReturnsAsync(() => StateAsync(job.Id), state => state == "SUCCEEDED");
        var dependent = Specs.Train(worldSize: 1, name: "starts-from-it");
        dependent.Device = DeviceKind.Cuda;
        dependent.Model.Checkpoint = $"job:{job.Id}";
        var queued = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = dependent });

        // Act: collect while the dependent job waits, then after it is cancelled.
        var whileQueued = await Jobs.CollectGarbageAsync(new CollectGarbageRequest());
        var keptWhileQueued = Store.Exists(model["artifact:".Length..]);
        await Jobs.CancelAsync(new CancelJobRequest { Id = queued.Id });
        var afterwards = await Jobs.CollectGarbageAsync(new CollectGarbageRequest());

        // Assert
        Assert.DoesNotContain(whileQueued.Items, i => i.JobId == job.Id && i.What == "model");
        Assert.True(keptWhileQueued);
        var dropped = Assert.Single(afterwards.Items, i => i.JobId == job.Id && i.What == "model");
        Assert.Equal(2000, dropped.Bytes);
        Assert.False(Store.Exists(model["artifact:".Length..]));
        Assert.Equal("", (await Jobs.GetAsync(new GetJobRequest { Id = job.Id })).ResultArtifact);
    }

    [Fact]
    public async Task CollectGarbage_StoredFilesNoRowNames_RemovesOnlyThoseOlderThanTheOrphanAge()
    {
        // Arrange: what a pass that stopped after its commit leaves (a file no row names), one old and one fresh.
        var old = StoreOrphan(Content("orphan old", 700), DateTime.UtcNow.AddHours(-1));
        var fresh = StoreOrphan(Content("orphan fresh", 800), DateTime.UtcNow);

        // Act
        var collected = await Jobs.CollectGarbageAsync(new CollectGarbageRequest());

        // Assert
        var orphan = Assert.Single(collected.Items, i => i.What == "orphan file");
        Assert.Equal(old, orphan.Name);
        Assert.Equal(700, orphan.Bytes);
        Assert.False(Store.Exists(old));
        Assert.True(Store.Exists(fresh));
    }

    [Fact]
    public async Task CollectGarbage_ReadKey_PermissionDenied()
    {
        var reader = new Jobs.JobsClient(server.AsReader);

        var error = await Assert.ThrowsAsync<RpcException>(() => reader.CollectGarbageAsync(new CollectGarbageRequest { DryRun = true }).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
    }

    string StoreOrphan(byte[] content, DateTime lastWriteUtc)
    {
        var sha = FakeWorker.Sha256(content);
        Directory.CreateDirectory(Path.GetDirectoryName(Store.PathOf(sha))!);
        File.WriteAllBytes(Store.PathOf(sha), content);
        File.SetLastWriteTimeUtc(Store.PathOf(sha), lastWriteUtc);
        return sha;
    }

    static async Task<string> UploadModelAsync(FakeWorker worker, AssignmentStart start, byte[] content) =>
        (await worker.UploadAsync(new ArtifactHeader
        {
            Kind = ArtifactKind.Model, JobId = start.JobId, Attempt = start.Attempt, Rank = start.Rank,
            Sha256 = FakeWorker.Sha256(content), Size = content.Length, Name = "model.safetensors",
        }, content)).Artifact;

    /// <summary>Distinct content of <paramref name="size"/> bytes for each <paramref name="seed"/>.</summary>
    static byte[] Content(string seed, int size)
    {
        var bytes = new byte[size];
        new Random(seed.GetHashCode()).NextBytes(bytes);
        System.Text.Encoding.UTF8.GetBytes(seed).CopyTo(bytes, 0);
        return bytes;
    }

    static long BytesOf(CollectGarbageResponse response, string jobId) => response.Items.Where(i => i.JobId == jobId).Sum(i => i.Bytes);

    static List<string> Checkpoints(CollectGarbageResponse response, string jobId) =>
        response.Items.Where(i => i.JobId == jobId && i.What == "checkpoint").Select(i => i.Name).ToList();

    async Task<List<long>> CheckpointStepsAsync(string jobId) =>
        (await new RunHistory.RunHistoryClient(server.AsReader).ListCheckpointsAsync(new ListCheckpointsRequest { JobId = jobId }))
        .Checkpoints.Select(c => c.Step).Order().ToList();

    Task<string?> StateAsync(string jobId) => fixture.Database.ScalarAsync<string>($"SELECT state FROM jobs WHERE id = '{jobId}'");
}

/// <summary>The background pass on a short interval, keeping one checkpoint per job.</summary>
public sealed class FrequentRetentionFixture : ServerFixture
{
    protected override IDictionary<string, string?> Overrides => new Dictionary<string, string?>
    {
        ["Orchestrator:RetentionInterval"] = "00:00:00.300",
        ["Orchestrator:RetainCheckpoints"] = "1",
    };
}

public class RetentionPassTests(FrequentRetentionFixture fixture) : IClassFixture<FrequentRetentionFixture>
{
    readonly OrchestratorServer server = fixture.Server;

    [Fact]
    public async Task RetentionPass_ShortInterval_RemovesOlderCheckpointsOfARunningJobWithoutAnyCall()
    {
        // Arrange: a running job writes checkpoints at steps 10 and 20.
        var jobs = new Jobs.JobsClient(server.AsSubmitter);
        await using var worker = await FakeWorker.StartAsync(server.AsWorker, "retention-pass");
        var job = await jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1) });
        var start = await worker.NextStartAsync();
        byte[] older = [1, 2, 3, 10], newer = [1, 2, 3, 20];
        await worker.UploadShardAsync(start, 10, older);
        await worker.UploadShardAsync(start, 20, newer);

        // Act: wait for a pass.
        var steps = await Eventually.ReturnsAsync(() => fixture.Database.ScalarAsync<long>($"SELECT count(*) FROM checkpoints WHERE job_id = '{job.Id}'"),
            count => count == 1, TimeSpan.FromSeconds(15), "the older checkpoint removed");

        // Assert: the newest stays, with its file; the older one's file is gone.
        Assert.Equal(1, steps);
        Assert.Equal(20, await fixture.Database.ScalarAsync<long>($"SELECT step FROM checkpoints WHERE job_id = '{job.Id}'"));
        var store = new ArtifactStore(server.ArtifactRoot);
        Assert.True(store.Exists(FakeWorker.Sha256(newer)));
        await Eventually.ReturnsAsync(() => Task.FromResult(store.Exists(FakeWorker.Sha256(older))), exists => !exists, TimeSpan.FromSeconds(5),
            "the older shard's file removed");
        await jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
    }
}
