using Google.Rpc;
using Grpc.Core;
using SpectralDiffusion.Shared.Contracts.V1;
using Contracts = SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Sweeps;

/// <summary>Sweeps over real gRPC and PostgreSQL: the jobs a submission creates, bad input that creates nothing, a cancel midway.</summary>
public class SweepsServiceTests(SweepsServiceTests.SmallCapFixture fixture) : IClassFixture<SweepsServiceTests.SmallCapFixture>
{
    public sealed class SmallCapFixture : ServerFixture
    {
        protected override IDictionary<string, string?> Overrides => new Dictionary<string, string?> { ["Orchestrator:MaxSweepJobs"] = "12" };
    }

    readonly OrchestratorServer server = fixture.Server;
    Contracts.Sweeps.SweepsClient Sweeps => new(server.AsSubmitter);

    static SweepSpec TeacherAndStudent(string name, params long[] seeds)
    {
        var spec = new SweepSpec { Name = name, Base = Specs.Train(worldSize: 1), Seeds = { seeds } };
        spec.Base.Labels.Clear();
        spec.Arms.Add(new SweepArm { Name = "teacher", Set = { "model.preset=tiny-ldm" } });
        spec.Arms.Add(new SweepArm { Name = "sd", Set = { "type=distill", "model.preset=tiny-sd", "teacher.preset=tiny-ldm", "teacher.checkpoint=arm:teacher" } });
        return spec;
    }

    async Task<(long Sweeps, long Jobs)> CountsAsync() =>
        (await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM sweeps"), await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM jobs"));

    [Fact]
    public async Task Submit_TwoArmsTwoSeeds_StoresEveryJobWithItsSweepArmSeedAndTeacher()
    {
        var sweep = await Sweeps.SubmitAsync(new SubmitSweepRequest { Spec = TeacherAndStudent("stored", 7, 8) });

        Assert.Equal(SweepState.Active, sweep.State);
        Assert.Equal(4, sweep.Jobs.Count);
        Assert.Equal(["teacher", "teacher", "sd", "sd"], sweep.Jobs.Select(j => j.Arm));
        foreach (var seed in new long[] { 7, 8 })
        {
            var teacher = sweep.Jobs.Single(j => j.Arm == "teacher" && j.Seed == seed);
            var student = sweep.Jobs.Single(j => j.Arm == "sd" && j.Seed == seed);
            Assert.Equal(["teacher"], student.DependsOnArms);
            Assert.Equal(teacher.JobId, await fixture.Database.ScalarAsync<string>($"SELECT depends_on[1]::text FROM jobs WHERE id = '{student.JobId}'"));
            Assert.Equal(sweep.Id, await fixture.Database.ScalarAsync<string>($"SELECT sweep_id::text FROM jobs WHERE id = '{student.JobId}'"));
            Assert.Equal("sd", await fixture.Database.ScalarAsync<string>($"SELECT sweep_arm FROM jobs WHERE id = '{student.JobId}'"));
            Assert.Equal(seed, await fixture.Database.ScalarAsync<long>($"SELECT sweep_seed FROM jobs WHERE id = '{student.JobId}'"));
            var job = await new Jobs.JobsClient(server.AsReader).GetAsync(new GetJobRequest { Id = student.JobId });
            Assert.Equal($"job:{teacher.JobId}", job.Spec.Teacher.Checkpoint);
            Assert.Equal(seed, job.Spec.Schedule.Seed);
        }
        var listed = await new Contracts.Sweeps.SweepsClient(server.AsReader).ListAsync(new ListSweepsRequest());
        Assert.Contains(listed.Sweeps, s => s.Id == sweep.Id && s.Jobs.Count == 4);
        await Sweeps.CancelAsync(new CancelSweepRequest { Id = sweep.Id });
    }

    public static TheoryData<string, string> BadSweeps => new()
    {
        { "unknown key", "spec.arms[sd].set" },
        { "over the cap", "spec" },
        { "teacher of another preset", "spec.arms[sd].teacher.preset" },
        { "cycle", "spec.arms" },
        { "missing external job", "spec.arms[eval].model.checkpoint" },
    };

    [Theory]
    [MemberData(nameof(BadSweeps))]
    public async Task Submit_BadInput_InvalidArgumentAndNothingCreated(string problem, string field)
    {
        var spec = TeacherAndStudent("bad", 1, 2);
        switch (problem)
        {
            case "unknown key": spec.Arms[1].Set.Add("distillation.lambda_frequency=0.2"); break;
            case "over the cap": spec.Seeds.AddRange([3, 4, 5, 6, 7]); break;   // 2 arms × 7 seeds = 14 > 12
            case "teacher of another preset": spec.Arms[0].Set[0] = "model.preset=tiny-lite-ldm"; break;
            case "cycle": spec.Arms[0].Set.AddRange(["type=distill", "teacher.preset=tiny-sd", "teacher.checkpoint=arm:sd"]); break;
            case "missing external job":
                // Expansion passes; the reference check inside the transaction fails after the sweep row and the first jobs were written.
                spec.Arms.Add(new SweepArm { Name = "eval", Set = { "type=evaluate", "optimizer=null", "model.checkpoint=job:0193f2a4-8c1e-7b7e-9d0a-0f3c5e2a1b4d", "evaluation.num_samples=4" } });
                break;
        }
        var before = await CountsAsync();

        var e = await Assert.ThrowsAsync<RpcException>(() => Sweeps.SubmitAsync(new SubmitSweepRequest { Spec = spec }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        var violations = e.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations;
        Assert.Contains(violations, v => v.Field == field);
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task Cancel_Midway_AbortsTheRunningJobAndCancelsTheRest()
    {
        await using var worker = await FakeWorker.StartAsync(server.AsWorker, "sweep-cancel");
        var sweep = await Sweeps.SubmitAsync(new SubmitSweepRequest { Spec = TeacherAndStudent("midway", 1, 2) });
        var start = await worker.NextStartAsync();
        await worker.ReportAsync(start, 5, ("loss", 0.5));
        var running = sweep.Jobs.Single(j => j.JobId == start.JobId);
        Assert.Equal("teacher", running.Arm);

        var cancelled = await Sweeps.CancelAsync(new CancelSweepRequest { Id = sweep.Id, Reason = "test" });

        Assert.Equal(SweepState.Cancelled, cancelled.State);
        Assert.All(cancelled.Jobs, j => Assert.Equal(JobState.Cancelled, j.State));
        var abort = await worker.NextAbortAsync();
        Assert.Equal(start.JobId, abort.JobId);
        var job = await new Jobs.JobsClient(server.AsReader).GetAsync(new GetJobRequest { Id = start.JobId });
        Assert.Contains($"sweep {sweep.Id} cancelled", job.FailureReason);
        var shown = await new Contracts.Sweeps.SweepsClient(server.AsReader).GetAsync(new GetSweepRequest { Id = sweep.Id });
        Assert.Equal(("test", SweepState.Cancelled), (shown.CancelReason, shown.State));
    }
}
