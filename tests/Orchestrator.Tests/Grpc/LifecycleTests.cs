using Google.Protobuf;
using Grpc.Core;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

public class LifecycleTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    readonly OrchestratorServer server = fixture.Server;

    [Fact]
    public async Task Submit_TwoWorkersRunToCompletion_SucceedsAndHistoryReturnsIt()
    {
        // Arrange: two workers and a watcher of the submitted job.
        await using var a = await FakeWorker.StartAsync(server.AsWorker, "lifecycle-a");
        await using var b = await FakeWorker.StartAsync(server.AsWorker, "lifecycle-b");
        var jobs = new Jobs.JobsClient(server.AsSubmitter);
        var history = new RunHistory.RunHistoryClient(server.AsReader);
        var submitted = await jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 2) });
        using var watch = jobs.Watch(new WatchJobRequest { Id = submitted.Id });
        var events = CollectAsync(watch.ResponseStream);

        // Act: gang-scheduled, progress, rendezvous, a complete checkpoint, the final model, completion.
        var assigned = new[] { (Worker: a, Start: await a.NextStartAsync()), (Worker: b, Start: await b.NextStartAsync()) }
            .OrderBy(x => x.Start.Rank).ToArray();
        var starts = assigned.Select(x => x.Start).ToArray();
        var ((w0, start0), (w1, start1)) = (assigned[0], assigned[1]);
        var scheduled = await jobs.GetAsync(new GetJobRequest { Id = submitted.Id });
        await w0.ReportAsync(start0, 10, ("loss", 0.9), ("loss_ddpm", 0.8));
        await w1.ReportAsync(start1, 10, ("loss", 0.95));
        await w0.ReportAsync(start0, 20, ("loss", 0.5), ("loss_ddpm", 0.4));
        var running = await jobs.GetAsync(new GetJobRequest { Id = submitted.Id });

        var rendezvous = new Rendezvous.RendezvousClient(w0.Invoker);
        var pendingGet = rendezvous.GetAsync(new GetRequest { RendezvousId = start1.RendezvousId, Key = "nccl-unique-id" });
        await rendezvous.PutAsync(new PutRequest { RendezvousId = start0.RendezvousId, Key = "nccl-unique-id", Value = ByteString.CopyFrom(new byte[128]) });
        var got = await pendingGet;

        var shard0 = await w0.UploadShardAsync(start0, 20, [1, 2, 3]);
        var shard1 = await w1.UploadShardAsync(start1, 20, [4, 5, 6, 7]);
        var model = "final model weights"u8.ToArray();
        var modelReceipt = await w0.UploadAsync(new ArtifactHeader
        {
            Kind = ArtifactKind.Model, JobId = submitted.Id, Attempt = 1, Sha256 = FakeWorker.Sha256(model), Size = model.Length, Name = "model.safetensors",
        }, model, chunk: 5);
        await w1.CompleteAsync(start1);
        var afterOneRank = await jobs.GetAsync(new GetJobRequest { Id = submitted.Id });
        await w0.CompleteAsync(start0, finalArtifact: modelReceipt.Artifact);
        await w0.Client.ReportEvaluationAsync(new EvaluationReport
        {
            WorkerId = w0.Id, JobId = submitted.Id, Attempt = 1, NumSamples = 8, Fid = 42.5,
            LowFrequencyError = 0.1, HighFrequencyError = 0.3, Extra = { ["params_m"] = 1.6 },
        });

        // Assert: the job's course.
        Assert.Equal(JobState.Queued, submitted.State);
        Assert.Equal(new[] { 0, 1 }, starts.Select(s => s.Rank));
        Assert.All(starts, s => Assert.Equal((submitted.Id, 1, 2, starts[0].RendezvousId), (s.JobId, s.Attempt, s.WorldSize, s.RendezvousId)));
        Assert.Null(start0.ResumeFrom);
        Assert.Equal(JobState.Scheduled, scheduled.State);
        Assert.Equal(JobState.Running, running.State);
        Assert.Equal(20, running.Progress.Step);
        Assert.Equal(0.5, running.Progress.Metrics["loss"]);
        Assert.Equal(128, got.Value.Length);
        Assert.False(shard0.CheckpointComplete);
        Assert.True(shard1.CheckpointComplete);
        Assert.Equal(JobState.Running, afterOneRank.State);
        var done = await jobs.GetAsync(new GetJobRequest { Id = submitted.Id });
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(modelReceipt.Artifact, done.ResultArtifact);
        Assert.NotNull(done.FinishedAt);
        var seen = await events;
        var course = new[] { JobState.Queued, JobState.Scheduled, JobState.Running, JobState.Succeeded };
        var states = seen.Select(e => e.Job.State).Distinct().ToList();
        // Each event carries the job as it stands when the event is delivered, so two changes that land close together
        // (scheduled, then running) may show only the later one; the states seen still follow the course in order.
        Assert.Equal(course.Where(states.Contains), states);
        Assert.Equal(JobState.Succeeded, states[^1]);
        Assert.Contains(JobState.Running, states);

        // Assert: the history queries return it.
        var runs = await history.ListRunsAsync(new ListRunsRequest { Type = JobType.Train });
        var run = Assert.Single(runs.Runs, r => r.JobId == submitted.Id);
        Assert.Equal((JobState.Succeeded, "tiny-ldm", 2, 1, 20L, 0.5), (run.State, run.Preset, run.WorldSize, run.Attempts, run.Steps, run.FinalMetrics["loss"]));
        var series = await history.GetMetricSeriesAsync(new GetMetricSeriesRequest { JobId = submitted.Id, Name = "loss" });
        Assert.Equal([(10L, 0.9), (20L, 0.5)], series.Samples.Select(s => (s.Step, s.Value)));
        var checkpoint = Assert.Single((await history.ListCheckpointsAsync(new ListCheckpointsRequest { JobId = submitted.Id })).Checkpoints);
        Assert.True(checkpoint.Complete);
        Assert.Equal([shard0.Artifact, shard1.Artifact], checkpoint.ShardArtifacts);
        var evaluation = Assert.Single((await history.ListEvaluationsAsync(new ListEvaluationsRequest { Preset = "tiny-ldm" })).Evaluations);
        Assert.Equal((42.5, 0.3, 1.6), (evaluation.Fid, evaluation.HighFrequencyError, evaluation.Extra["params_m"]));
        Assert.Equal(model, await DownloadAsync(new JobArtifacts.JobArtifactsClient(server.AsReader), submitted.Id));
        var workers = await new Workers.WorkersClient(server.AsReader).ListAsync(new ListWorkersRequest());
        Assert.All(workers.Workers.Where(w => w.Id == a.Id || w.Id == b.Id), w => Assert.Equal("idle", w.State));
        Assert.Equal(2L, await fixture.Database.ScalarAsync<long>($"SELECT count(*) FROM loss_curves WHERE job_id = '{submitted.Id}' AND metric = 'loss'"));
        Assert.Equal(42.5, await fixture.Database.ScalarAsync<double>("SELECT latest_fid FROM fid_by_preset WHERE preset = 'tiny-ldm'"));
    }

    [Fact]
    public async Task List_FilterByStateAndLabel_PagesThroughMatchingJobs()
    {
        var jobs = new Jobs.JobsClient(server.AsSubmitter);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var spec = Specs.Train(worldSize: 8, name: $"paged-{i}");
            spec.Labels["batch"] = "paging";
            ids.Add((await jobs.SubmitAsync(new SubmitJobRequest { Spec = spec })).Id);
        }

        var request = new ListJobsRequest { States = { JobState.Queued }, Labels = { ["batch"] = "paging" }, PageSize = 2 };
        var seen = new List<string>();
        do
        {
            var page = await jobs.ListAsync(request);
            seen.AddRange(page.Jobs.Select(j => j.Id));
            request.PageToken = page.NextPageToken;
        } while (request.PageToken.Length > 0);

        Assert.Equal(ids.AsEnumerable().Reverse(), seen);
        foreach (var id in ids) await jobs.CancelAsync(new CancelJobRequest { Id = id, Reason = "test over" });
    }

    static async Task<List<JobEvent>> CollectAsync(IAsyncStreamReader<JobEvent> stream)
    {
        var events = new List<JobEvent>();
        await foreach (var jobEvent in stream.ReadAllAsync()) events.Add(jobEvent);
        return events;
    }

    /// <summary>The job's final model, as its users download it (a read key).</summary>
    static async Task<byte[]> DownloadAsync(JobArtifacts.JobArtifactsClient client, string jobId)
    {
        using var call = client.Download(new DownloadJobArtifactRequest { JobId = jobId, What = "model" });
        var content = new MemoryStream();
        await foreach (var chunk in call.ResponseStream.ReadAllAsync())
            if (chunk.PartCase == JobArtifactChunk.PartOneofCase.Data) chunk.Data.WriteTo(content);
        return content.ToArray();
    }
}
