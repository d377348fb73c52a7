using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Security;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>Every worker acts only as itself: its id is bound to the secret it was issued at registration.</summary>
public class WorkerIdentityTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    readonly OrchestratorServer server = fixture.Server;
    Jobs.JobsClient Jobs => new(server.AsSubmitter);

    Task<long> StoredAsync(string jobId) => fixture.Database.ScalarAsync<long>(
        $"SELECT (SELECT count(*) FROM metrics WHERE job_id = '{jobId}') + (SELECT progress_step FROM jobs WHERE id = '{jobId}')");

    static ProgressReport Forged(AssignmentStart start, string workerId) => new()
    {
        WorkerId = workerId, JobId = start.JobId, Attempt = start.Attempt, Rank = start.Rank, Step = 9999, TotalSteps = 40,
        Phase = "train", Metrics = { new MetricPoint { Step = 9999, Name = "loss", Value = -1 } },
    };

    [Fact]
    public async Task ReportProgress_AnotherWorkersIdWithOwnCredential_PermissionDeniedAndNothingStored()
    {
        await using var victim = await FakeWorker.StartAsync(server.AsWorker, "identity-victim-1");
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1) });
        var start = await victim.NextStartAsync();
        await using var forger = await FakeWorker.StartAsync(server.AsWorker, "identity-forger-1");

        var error = await Assert.ThrowsAsync<RpcException>(() => forger.Client.ReportProgressAsync(Forged(start, victim.Id)).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("worker_id", error.Status.Detail);
        Assert.Equal(0L, await StoredAsync(job.Id));
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
    }

    [Theory]
    [InlineData("no credential")]
    [InlineData("victim's id, guessed secret")]
    public async Task ReportProgress_VictimsIdWithoutItsSecret_UnauthenticatedAndNothingStored(string presented)
    {
        await using var victim = await FakeWorker.StartAsync(server.AsWorker, $"identity-victim-{presented.Length}");
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1) });
        var start = await victim.NextStartAsync();
        var invoker = presented == "no credential" ? server.AsWorker
            : server.AsWorkerWith(victim.Id, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));

        var forged = await Assert.ThrowsAsync<RpcException>(() => new Workers.WorkersClient(invoker).ReportProgressAsync(Forged(start, victim.Id)).ResponseAsync);
        var completed = await Assert.ThrowsAsync<RpcException>(() => new Workers.WorkersClient(invoker).CompleteAttemptAsync(new AttemptResult
        {
            WorkerId = victim.Id, JobId = start.JobId, Attempt = start.Attempt, Rank = start.Rank, Succeeded = false, Error = "forged",
        }).ResponseAsync);

        Assert.Equal((StatusCode.Unauthenticated, StatusCode.Unauthenticated), (forged.StatusCode, completed.StatusCode));
        Assert.Contains(WorkerCredentialHeaders.Secret, forged.Status.Detail);
        Assert.Equal(0L, await StoredAsync(job.Id));
        Assert.Equal(JobState.Scheduled, (await Jobs.GetAsync(new GetJobRequest { Id = job.Id })).State);
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
    }

    [Fact]
    public async Task UploadArtifact_ShardOfARankAnotherWorkerRuns_PermissionDeniedAndNothingStored()
    {
        await using var victim = await FakeWorker.StartAsync(server.AsWorker, "identity-victim-upload");
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1) });
        var start = await victim.NextStartAsync();
        await using var forger = await FakeWorker.StartAsync(server.AsWorker, "identity-forger-upload");

        var error = await Assert.ThrowsAsync<RpcException>(() => forger.UploadShardAsync(start, 10, [6, 6, 6]));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("rank 0", error.Status.Detail);
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>($"SELECT count(*) FROM checkpoints WHERE job_id = '{job.Id}'"));
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>($"SELECT count(*) FROM artifacts WHERE sha256 = '{FakeWorker.Sha256([6, 6, 6])}'"));
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
    }

    [Fact]
    public async Task ReportEvaluation_ForAJobTheWorkerDoesNotRun_PermissionDeniedAndNothingStored()
    {
        await using var victim = await FakeWorker.StartAsync(server.AsWorker, "identity-victim-eval");
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1) });
        var start = await victim.NextStartAsync();
        await using var forger = await FakeWorker.StartAsync(server.AsWorker, "identity-forger-eval");

        var error = await Assert.ThrowsAsync<RpcException>(() => forger.Client.ReportEvaluationAsync(new EvaluationReport
        {
            WorkerId = forger.Id, JobId = start.JobId, Attempt = start.Attempt, NumSamples = 8, Fid = 0.01, LowFrequencyError = 0, HighFrequencyError = 0,
        }).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>($"SELECT count(*) FROM evaluations WHERE job_id = '{job.Id}'"));
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
    }

    [Fact]
    public async Task Register_Response_CarriesASecretThatIsStoredOnlyAsItsHash()
    {
        var response = await new Workers.WorkersClient(server.AsWorker)
            .RegisterAsync(new RegisterWorkerRequest { Name = "identity-hash", Device = DeviceKind.Cpu });

        var stored = await fixture.Database.ScalarAsync<byte[]>($"SELECT secret_hash FROM workers WHERE id = '{response.WorkerId}'");
        var row = await fixture.Database.ScalarAsync<string>($"SELECT row_to_json(w)::text FROM workers w WHERE id = '{response.WorkerId}'");

        Assert.True(response.WorkerSecret.Length >= 40, $"secret of {response.WorkerSecret.Length} characters");
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(response.WorkerSecret)), stored);
        Assert.DoesNotContain(response.WorkerSecret, row);
        await new Workers.WorkersClient(server.AsWorkerWith(response.WorkerId, response.WorkerSecret))
            .DeregisterAsync(new DeregisterRequest { WorkerId = response.WorkerId });
    }

    [Fact]
    public async Task Heartbeat_OwnCredential_Accepted()
    {
        await using var worker = await FakeWorker.StartAsync(server.AsWorker, "identity-heartbeat");

        var response = await worker.Client.HeartbeatAsync(new HeartbeatRequest { WorkerId = worker.Id });

        Assert.True(response.LeaseExpiresAt.ToDateTime() > DateTime.UtcNow);
    }
    [Fact]
    public async Task KeepAlive_AnotherWorkersIdWithOwnCredential_PermissionDeniedAndOwnIdRenews()
    {
        await using var victim = await FakeWorker.StartAsync(server.AsWorker, "identity-victim-keepalive");
        await using var forger = await FakeWorker.StartAsync(server.AsWorker, "identity-forger-keepalive");

        using var own = forger.Client.KeepAlive();
        await own.RequestStream.WriteAsync(new HeartbeatRequest { WorkerId = forger.Id });
        var renewed = await own.ResponseStream.MoveNext(CancellationToken.None);
        using var forged = forger.Client.KeepAlive();
        await forged.RequestStream.WriteAsync(new HeartbeatRequest { WorkerId = victim.Id });
        var error = await Assert.ThrowsAsync<RpcException>(() => forged.ResponseStream.MoveNext(CancellationToken.None));

        Assert.True(renewed);
        Assert.True(own.ResponseStream.Current.LeaseExpiresAt.ToDateTime() > DateTime.UtcNow);
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("worker_id", error.Status.Detail);
    }
}
