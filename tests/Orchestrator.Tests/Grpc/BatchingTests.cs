using Microsoft.Extensions.DependencyInjection;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Orchestrator.Services;
using SpectralDiffusion.Orchestrator.Submission;
using JobState = SpectralDiffusion.Shared.Contracts.V1.JobState;
using DeviceKind = SpectralDiffusion.Shared.Contracts.V1.DeviceKind;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>
/// The batched hot paths keep their guarantees: a submit is stored exactly once and answers what a read returns;
/// heartbeats answered from memory are written before leases are judged, and survive a restart that lost them; a
/// scheduling round that starts many gangs at once gives every rank exactly one worker.
/// </summary>
public class BatchingTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    readonly OrchestratorServer server = fixture.Server;
    Jobs.JobsClient Jobs => new(server.AsSubmitter);

    [Fact]
    public async Task Submit_ManyConcurrentSubmits_EachStoredExactlyOnceAsAnswered()
    {
        // Arrange: jobs no worker of this class can take (cuda), so they stay queued.
        var names = Enumerable.Range(0, 48).Select(i => $"concurrent-{i}").ToArray();

        // Act: all submitted at once.
        var answers = await Task.WhenAll(names.Select(name =>
        {
            var spec = Specs.Train(worldSize: 1, name: name);
            spec.Device = DeviceKind.Cuda;
            return Jobs.SubmitAsync(new SubmitJobRequest { Spec = spec }).ResponseAsync;
        }));
        var stored = await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE name LIKE 'concurrent-%'");
        var distinctNames = await fixture.Database.ScalarAsync<long>("SELECT count(DISTINCT name) FROM jobs WHERE name LIKE 'concurrent-%'");
        var reads = await Task.WhenAll(answers.Select(a => Jobs.GetAsync(new GetJobRequest { Id = a.Id }).ResponseAsync));

        // Assert: one row per submit, and each answer is the job as it is stored.
        Assert.Equal(names.Length, answers.Select(a => a.Id).Distinct().Count());
        Assert.Equal((names.Length, names.Length), (stored, distinctNames));
        Assert.Equal(names.Order(), answers.Select(a => a.Spec.Name).Order());
        Assert.Equal(answers, reads);
        Assert.All(answers, a => Assert.Equal(JobState.Queued, a.State));
        foreach (var answer in answers) await Jobs.CancelAsync(new CancelJobRequest { Id = answer.Id });
    }

    [Fact]
    public async Task SubmitMany_ValidSpecs_AllStoredInTheOrderGiven()
    {
        // Arrange
        var submission = server.Services.GetRequiredService<JobSubmission>();
        var specs = Enumerable.Range(0, 20).Select(i => Cuda(Specs.Train(worldSize: 1, name: $"together-{i}"))).ToList();

        // Act
        var intake = server.Services.GetRequiredService<JobSpecIntake>();
        var views = (await submission.SubmitManyAsync(intake.AcceptMany(specs), CancellationToken.None)).Select(JobMapping.ToProto).ToList();
        var stored = await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE name LIKE 'together-%'");

        // Assert
        Assert.Equal(specs.Select(s => s.Name), views.Select(v => v.Spec.Name));
        Assert.Equal(20, stored);
        Assert.Equal(views, await Task.WhenAll(views.Select(v => Jobs.GetAsync(new GetJobRequest { Id = v.Id }).ResponseAsync)));
        foreach (var view in views) await Jobs.CancelAsync(new CancelJobRequest { Id = view.Id });
    }

    [Fact]
    public async Task AcceptMany_OneSpecInvalid_StoresNoneAndNamesTheSpec()
    {
        // Arrange: the third of four specs has no world size.
        var intake = server.Services.GetRequiredService<JobSpecIntake>();
        var specs = Enumerable.Range(0, 4).Select(i => Cuda(Specs.Train(worldSize: 1, name: $"all-or-none-{i}"))).ToList();
        specs[2].WorldSize = -1;

        // Act
        var refused = Assert.Throws<OrchestratorException>(() => intake.AcceptMany(specs));
        var stored = await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE name LIKE 'all-or-none-%'");

        // Assert
        Assert.Equal(OrchestratorErrorKind.InvalidArgument, refused.Kind);
        Assert.All(refused.Violations, v => Assert.StartsWith("specs[2].", v.Field));
        Assert.Contains(refused.Violations, v => v.Field == "specs[2].spec.world_size");
        Assert.Equal(0, stored);
    }

    static JobSpec Cuda(JobSpec spec)
    {
        spec.Device = DeviceKind.Cuda;
        return spec;
    }

    [Fact]
    public async Task Heartbeat_AnsweredFromMemory_IsWrittenAndKeepsTheWorkerLive()
    {
        // Arrange: a worker heartbeating every 0.3 s against a 2 s lease.
        await using var a = await FakeWorker.StartAsync(server.AsWorker, "batched-a");
        var registeredAt = await fixture.Database.ScalarAsync<DateTime>($"SELECT registered_at FROM workers WHERE id = '{a.Id}'");

        // Act: wait until the stored heartbeat is more than a whole lease after registration.
        var written = await Eventually.ReturnsAsync(
            () => fixture.Database.ScalarAsync<DateTime>($"SELECT last_heartbeat_at FROM workers WHERE id = '{a.Id}'"),
            at => at > registeredAt.AddSeconds(3), TimeSpan.FromSeconds(20), "a heartbeat written 3 s after registration");
        var state = await fixture.Database.ScalarAsync<string>($"SELECT state FROM workers WHERE id = '{a.Id}'");
        var leaseAfterHeartbeat = await fixture.Database.ScalarAsync<bool>(
            $"SELECT lease_expires_at >= last_heartbeat_at + interval '2 seconds' FROM workers WHERE id = '{a.Id}'");

        // Assert: the worker outlived its first lease; its stored lease runs a whole lease from its stored heartbeat.
        Assert.True(written > registeredAt);
        Assert.Equal("idle", state);
        Assert.True(leaseAfterHeartbeat);
        Assert.Equal(0, a.HeartbeatFailures);
    }

    [Fact]
    public async Task Restart_HeartbeatsLostWithTheProcess_LiveWorkerGetsAWholeLeaseAndAHungOneIsStillFound()
    {
        // Arrange: a worker that stops heartbeating.
        await using var hung = await FakeWorker.StartAsync(server.AsWorker, "restart-hung");
        hung.Hang();

        // Act: the orchestrator stops; its last heartbeats never reached the table (as after a crash), so the stored lease
        // has run out, and the restart is quick enough that the lease clock sees no outage.
        await server.StopAsync();
        await fixture.Database.ScalarAsync<int>($"""
            UPDATE workers SET lease_expires_at = now() - interval '0.5 seconds' WHERE id = '{hung.Id}';
            UPDATE lease_clock SET last_tick = now();
            SELECT 1;
            """);
        await server.StartAsync();
        var extended = await Eventually.ReturnsAsync(
            () => fixture.Database.ScalarAsync<bool>($"SELECT state = 'idle' AND lease_expires_at > now() + interval '1 second' FROM workers WHERE id = '{hung.Id}'"),
            ok => ok, TimeSpan.FromSeconds(10), "the expired lease granted a whole lease by the first watchdog iteration");
        var lost = await Eventually.ReturnsAsync(() => fixture.Database.ScalarAsync<string>($"SELECT state FROM workers WHERE id = '{hung.Id}'"),
            state => state == "lost", TimeSpan.FromSeconds(15), "the hung worker lost a lease later");

        // Assert: the restart did not lose the worker for heartbeats it could not have written; a lease later it did.
        Assert.True(extended);
        Assert.Equal("lost", lost);
    }

    [Fact]
    public async Task Scheduler_ManyGangsQueuedAtOnce_EachRankGetsItsOwnWorker()
    {
        // Arrange: four 3-rank jobs queued before any worker is there, then twelve workers.
        var jobs = await Task.WhenAll(Enumerable.Range(0, 4).Select(i =>
            Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 3, name: $"gang-{i}") }).ResponseAsync));
        var workers = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => FakeWorker.StartAsync(server.AsWorker, $"gang-worker-{i}")));
        try
        {
            // Act
            var starts = await Task.WhenAll(workers.Select(w => w.NextStartAsync(TimeSpan.FromSeconds(20))));
            var stored = await Task.WhenAll(jobs.Select(j => Jobs.GetAsync(new GetJobRequest { Id = j.Id }).ResponseAsync));

            // Assert: every job runs ranks 0..2 on three distinct workers, as stored, and no worker got a second order.
            var byJob = starts.Select((start, w) => (start, worker: workers[w].Id)).GroupBy(s => s.start.JobId).ToDictionary(g => g.Key);
            Assert.Equal(jobs.Select(j => j.Id).Order(), byJob.Keys.Order());
            foreach (var job in stored)
            {
                var ranks = byJob[job.Id].OrderBy(s => s.start.Rank).ToList();
                Assert.Equal([0, 1, 2], ranks.Select(s => s.start.Rank));
                Assert.All(ranks, s => Assert.Equal((1, 3), (s.start.Attempt, s.start.WorldSize)));
                Assert.Single(ranks.Select(s => s.start.RendezvousId).Distinct());
                Assert.Equal(ranks.Select(s => s.worker), job.Workers);
                Assert.Equal(JobState.Scheduled, job.State);
            }
            Assert.Equal(12, starts.Select((_, w) => workers[w].Id).Distinct().Count());
            Assert.All(workers, w => Assert.False(w.HasPendingOrder));
            Assert.Equal(12, await fixture.Database.ScalarAsync<long>(
                "SELECT count(*) FROM workers w JOIN attempt_ranks r ON r.worker_id = w.id AND r.job_id = w.job_id AND r.rank = w.rank WHERE w.state = 'busy'"));
        }
        finally
        {
            foreach (var job in jobs) await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
            foreach (var worker in workers) await worker.DisposeAsync();
        }
    }
}
