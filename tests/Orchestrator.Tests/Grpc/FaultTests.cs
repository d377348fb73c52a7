using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

public class FaultTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    readonly OrchestratorServer server = fixture.Server;
    Jobs.JobsClient Jobs => new(server.AsSubmitter);

    [Fact]
    public async Task Heartbeat_WorkerHangsPastLease_RequeuesFromNewestCompleteCheckpointThenFailsWhenRestartsRunOut()
    {
        // Arrange: a job with one restart on two workers; a complete checkpoint at step 20, an incomplete one at step 30.
        await using var a = await FakeWorker.StartAsync(server.AsWorker, "hang-a");
        await using var b = await FakeWorker.StartAsync(server.AsWorker, "hang-b");
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 2, maxRestarts: 1) });
        var (startA, startB) = (await a.NextStartAsync(), await b.NextStartAsync());
        await a.ReportAsync(startA, 20, ("loss", 0.7));
        var shardA = await a.UploadShardAsync(startA, 20, [1, 1, 1]);
        var shardB = await b.UploadShardAsync(startB, 20, [2, 2, 2]);
        await a.UploadShardAsync(startA, 30, [3, 3, 3]);

        // Act: b stops heartbeating; a third worker joins for the second attempt, then also hangs.
        b.Hang();
        var abort = await a.NextAbortAsync();
        var requeued = await Jobs.GetAsync(new GetJobRequest { Id = job.Id });
        await using var c = await FakeWorker.StartAsync(server.AsWorker, "hang-c");
        var (retryA, retryC) = (await a.NextStartAsync(), await c.NextStartAsync());
        c.Hang();
        var finalAbort = await a.NextAbortAsync();
        var failed = await Jobs.GetAsync(new GetJobRequest { Id = job.Id });

        // Assert
        Assert.Equal((job.Id, 1, false), (abort.JobId, abort.Attempt, abort.Cancelled));
        Assert.Contains("lease", abort.Reason);
        Assert.True(requeued.State is JobState.Queued or JobState.Scheduled, $"state {requeued.State}");
        Assert.Equal(1, requeued.Restarts);
        Assert.Equal(2, retryA.Attempt);
        Assert.NotEqual(startA.RendezvousId, retryA.RendezvousId);
        Assert.Equal(retryA.RendezvousId, retryC.RendezvousId);
        Assert.Equal(20, retryA.ResumeFrom.Step);
        Assert.Equal([shardA.Artifact, shardB.Artifact], retryA.ResumeFrom.ShardArtifacts);
        Assert.Equal(2, retryA.ResumeFrom.WorldSize);
        Assert.Equal(2, finalAbort.Attempt);
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Contains("lease", failed.FailureReason);
        Assert.Contains("no restarts left", failed.FailureReason);
        Assert.Equal(20, failed.ResumeStep);
    }

    [Fact]
    public async Task Scheduler_NewestCheckpointHasCorruptShard_ResumesFromThePreviousCompleteOne()
    {
        // Arrange: complete checkpoints at steps 10 and 20; then a disk fault truncates one shard of step 20.
        await using var a = await FakeWorker.StartAsync(server.AsWorker, "corrupt-a");
        await using var b = await FakeWorker.StartAsync(server.AsWorker, "corrupt-b");
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 2, maxRestarts: 1) });
        var (startA, startB) = (await a.NextStartAsync(), await b.NextStartAsync());
        var olderA = await a.UploadShardAsync(startA, 10, [1, 1, 1]);
        var olderB = await b.UploadShardAsync(startB, 10, [2, 2, 2]);
        await a.UploadShardAsync(startA, 20, [3, 3, 3]);
        var newerB = await b.UploadShardAsync(startB, 20, [4, 4, 4]);
        var sha = newerB.Artifact["artifact:".Length..];
        File.WriteAllBytes(Path.Combine(server.ArtifactRoot, sha[..2], sha), [4]);

        // Act: rank 1 fails, so the job is re-queued and scheduled again on the same two workers.
        await b.CompleteAsync(startB, succeeded: false, error: "boom");
        await a.NextAbortAsync();
        var retry = await a.NextStartAsync();

        // Assert
        Assert.Equal(10, retry.ResumeFrom.Step);
        Assert.Equal([olderA.Artifact, olderB.Artifact], retry.ResumeFrom.ShardArtifacts);
    }

    [Fact]
    public async Task Assignments_StreamBreaks_AbortsAttemptOnEveryRankAndLosesWorker()
    {
        await using var a = await FakeWorker.StartAsync(server.AsWorker, "crash-a");
        await using var b = await FakeWorker.StartAsync(server.AsWorker, "crash-b");
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 2, maxRestarts: 0) });
        await a.NextStartAsync();
        await b.NextStartAsync();

        b.Kill();
        var abort = await a.NextAbortAsync();
        var failed = await Jobs.GetAsync(new GetJobRequest { Id = job.Id });
        var workers = await new Workers.WorkersClient(server.AsReader).ListAsync(new ListWorkersRequest { IncludeGone = true });

        Assert.Contains("assignment stream closed", abort.Reason);
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Equal("lost", workers.Workers.Single(w => w.Id == b.Id).State);
        Assert.Equal("idle", workers.Workers.Single(w => w.Id == a.Id).State);
    }

    [Fact]
    public async Task CompleteAttempt_RankFails_AbortsOtherRankAndRequeues()
    {
        await using var a = await FakeWorker.StartAsync(server.AsWorker, "fail-a");
        await using var b = await FakeWorker.StartAsync(server.AsWorker, "fail-b");
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 2, maxRestarts: 1) });
        var (startA, startB) = (await a.NextStartAsync(), await b.NextStartAsync());

        await b.CompleteAsync(startB, succeeded: false, error: "CUDA out of memory");
        var abortA = await a.NextAbortAsync();
        var abortB = await b.NextAbortAsync();
        var (retryA, retryB) = (await a.NextStartAsync(), await b.NextStartAsync());

        Assert.Contains("CUDA out of memory", abortA.Reason);
        Assert.Equal(startA.Attempt, abortB.Attempt);
        Assert.Equal((2, 2), (retryA.Attempt, retryB.Attempt));
        Assert.Null(retryA.ResumeFrom);
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id, Reason = "test over" });
    }

    [Fact]
    public async Task Cancel_RunningJob_AbortsRanksAsCancelledAndFreesWorkers()
    {
        await using var a = await FakeWorker.StartAsync(server.AsWorker, "cancel-a");
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1) });
        var start = await a.NextStartAsync();
        await a.ReportAsync(start, 5, ("loss", 1.0));

        var cancelled = await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id, Reason = "wrong dataset" });
        var abort = await a.NextAbortAsync();
        var stale = await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(() => a.ReportAsync(start, 6, ("loss", 0.9)));

        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Contains("wrong dataset", cancelled.FailureReason);
        Assert.True(abort.Cancelled);
        Assert.Equal(global::Grpc.Core.StatusCode.FailedPrecondition, stale.StatusCode);
    }

    [Fact]
    public async Task Scheduler_HigherPriorityJobSubmittedLater_IsAssignedFirst()
    {
        var low = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1, priority: 0, name: "low") });
        var high = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1, priority: 5, name: "high") });

        await using var a = await FakeWorker.StartAsync(server.AsWorker, "priority-a");
        var first = await a.NextStartAsync();

        Assert.Equal(high.Id, first.JobId);
        await Jobs.CancelAsync(new CancelJobRequest { Id = high.Id });
        // Clean-up only: the low job may already have ended on a worker an earlier test of this class left behind. Left
        // queued or scheduled, it would be started on the next test's worker in place of that test's job.
        if ((await Jobs.GetAsync(new GetJobRequest { Id = low.Id })).State is not (JobState.Succeeded or JobState.Failed or JobState.Cancelled))
            await Jobs.CancelAsync(new CancelJobRequest { Id = low.Id });
    }

    [Fact]
    public async Task Scheduler_DistillNamesTeacherJob_WaitsForItAndReceivesItsModel()
    {
        await using var a = await FakeWorker.StartAsync(server.AsWorker, "pipeline-a");
        var teacher = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1, priority: -1) });
        var spec = Specs.Train(worldSize: 1, priority: 10, name: "student");
        spec.Type = JobType.Distill;
        spec.Model.Preset = "tiny-sd";
        spec.Teacher = new ModelSpec { Preset = "tiny-ldm", Checkpoint = "job:" + teacher.Id };
        var student = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = spec });

        var teacherStart = await a.NextStartAsync();
        var model = "teacher weights"u8.ToArray();
        var receipt = await a.UploadAsync(new ArtifactHeader
        {
            Kind = ArtifactKind.Model, JobId = teacher.Id, Attempt = 1, Sha256 = FakeWorker.Sha256(model), Size = model.Length,
        }, model);
        await a.CompleteAsync(teacherStart, finalArtifact: receipt.Artifact);
        var studentStart = await a.NextStartAsync();

        Assert.Equal(teacher.Id, teacherStart.JobId);
        Assert.Equal(student.Id, studentStart.JobId);
        Assert.Equal(receipt.Artifact, studentStart.TeacherArtifact);
        await Jobs.CancelAsync(new CancelJobRequest { Id = student.Id });
    }
    [Fact]
    public async Task Scheduler_InputJobCancelled_FailsOnlyItsQueuedDependentsAmongABacklog()
    {
        // Arrange: CUDA jobs, which no worker of this suite takes, so all stay queued: a backlog, a teacher and a student of it.
        JobSpec Cuda(string name)
        {
            var spec = Specs.Train(worldSize: 1, name: name);
            spec.Device = DeviceKind.Cuda;
            return spec;
        }
        var backlog = new List<string>();
        for (var i = 0; i < 40; i++) backlog.Add((await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Cuda($"backlog-{i}") })).Id);
        var teacher = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Cuda("blocked-teacher") });
        var studentSpec = Cuda("blocked-student");
        studentSpec.Type = JobType.Distill;
        studentSpec.Model.Preset = "tiny-sd";
        studentSpec.Teacher = new ModelSpec { Preset = "tiny-ldm", Checkpoint = "job:" + teacher.Id };
        var student = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = studentSpec });

        // Act
        await Jobs.CancelAsync(new CancelJobRequest { Id = teacher.Id });
        var failed = await Eventually.ReturnsAsync(() => Jobs.GetAsync(new GetJobRequest { Id = student.Id }).ResponseAsync,
            j => j.State != JobState.Queued, what: "the student leaving the queue");
        var backlogStates = new List<JobState>();
        foreach (var id in backlog) backlogStates.Add((await Jobs.GetAsync(new GetJobRequest { Id = id })).State);

        // Assert
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Equal($"input job {teacher.Id} is CANCELLED", failed.FailureReason);
        Assert.All(backlogStates, state => Assert.Equal(JobState.Queued, state));
        foreach (var id in backlog) await Jobs.CancelAsync(new CancelJobRequest { Id = id });
    }
}
