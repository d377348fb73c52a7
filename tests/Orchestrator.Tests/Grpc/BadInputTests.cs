using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

public class BadInputTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    readonly OrchestratorServer server = fixture.Server;
    Jobs.JobsClient Jobs => new(server.AsSubmitter);

    public static TheoryData<string, string> BrokenSpecs => new()
    {
        { "world size 0", "spec.world_size" },
        { "world size above max", "spec.world_size" },
        { "unknown preset", "spec.model.preset" },
        { "negative steps", "spec.schedule.steps" },
        { "missing dataset", "spec.dataset" },
        { "teacher job unknown", "spec.teacher.checkpoint" },
    };

    [Theory]
    [MemberData(nameof(BrokenSpecs))]
    public async Task Submit_InvalidField_InvalidArgumentNamingFieldAndNothingStored(string broken, string field)
    {
        var spec = Specs.Train(worldSize: 2);
        switch (broken)
        {
            case "world size 0": spec.WorldSize = 0; break;
            case "world size above max": spec.WorldSize = 9; break;
            case "unknown preset": spec.Model.Preset = "huge-ldm"; break;
            case "negative steps": spec.Schedule.Steps = -1; break;
            case "missing dataset": spec.Dataset = null; break;
            case "teacher job unknown":
                spec.Type = JobType.Distill;
                spec.Teacher = new ModelSpec { Preset = "tiny-ldm", Checkpoint = "job:" + Guid.NewGuid() };
                break;
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => Jobs.SubmitAsync(new SubmitJobRequest { Spec = spec }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(field, error.Status.Detail);
        var badRequest = error.GetRpcStatus()!.GetDetail<BadRequest>();
        Assert.Contains(badRequest.FieldViolations, v => v.Field == field && v.Description.Length > 0);
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM jobs"));
    }

    public static TheoryData<string, string> UnstorableSpecs => new()
    {
        // case name, field path expected
        { "NUL in name", "spec.name" },
        { "NUL in label value", "spec.labels" },
        { "NUL in label key", "spec.labels" },
        { "NUL in preset", "spec.model.preset" },
        { "NUL in feature tap", "spec.distillation.feature_taps" },
        { "type 99", "spec.type" },
        { "device 77", "spec.device" },
    };

    [Theory]
    [MemberData(nameof(UnstorableSpecs))]
    public async Task Submit_NulOrUndefinedEnum_InvalidArgumentNamingFieldAndNothingStored(string broken, string field)
    {
        var spec = Specs.Train(worldSize: 2);
        switch (broken)
        {
            case "NUL in name": spec.Name = "team\0a"; break;
            case "NUL in label value": spec.Labels["team"] = "vi\0sion"; break;
            case "NUL in label key": spec.Labels["te\0am"] = "vision"; break;
            case "NUL in preset": spec.Model.Preset = "tiny-ldm\0"; break;
            case "NUL in feature tap":
                spec.Type = JobType.Distill;
                spec.Teacher = new ModelSpec { Preset = "tiny-ldm", Checkpoint = "artifact:" + new string('a', 64) };
                spec.Distillation = new DistillationSpec { FeatureTaps = { "output_blocks.2", "output\0blocks.5" } };
                break;
            case "type 99": spec.Type = (JobType)99; break;
            case "device 77": spec.Device = (DeviceKind)77; break;
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => Jobs.SubmitAsync(new SubmitJobRequest { Spec = spec }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        var badRequest = error.GetRpcStatus()!.GetDetail<BadRequest>();
        Assert.Contains(badRequest.FieldViolations, v => v.Field.StartsWith(field, StringComparison.Ordinal) && v.Description.Length > 0);
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM jobs"));
    }

    [Fact]
    public async Task Get_HundredKilobyteId_InvalidArgumentEchoingAShortPrefix()
    {
        var id = new string('7', 100_000);

        var error = await Assert.ThrowsAsync<RpcException>(() => Jobs.GetAsync(new GetJobRequest { Id = id }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("id:", error.Status.Detail);
        Assert.Contains("100000 characters", error.Status.Detail);
        Assert.True(error.Status.Detail.Length < 200, $"the error echoes {error.Status.Detail.Length} characters");
    }

    [Fact]
    public async Task Register_UndefinedDeviceOrNulInName_InvalidArgumentAndNoWorkerStored()
    {
        var workers = new Workers.WorkersClient(server.AsWorker);

        var device = await Assert.ThrowsAsync<RpcException>(() => workers.RegisterAsync(
            new RegisterWorkerRequest { Name = "odd-device", Device = (DeviceKind)77 }).ResponseAsync);
        var name = await Assert.ThrowsAsync<RpcException>(() => workers.RegisterAsync(
            new RegisterWorkerRequest { Name = "nul\0name", Device = DeviceKind.Cpu, Labels = { ["zone"] = "a\0" } }).ResponseAsync);

        Assert.Equal((StatusCode.InvalidArgument, StatusCode.InvalidArgument), (device.StatusCode, name.StatusCode));
        Assert.StartsWith("device:", device.Status.Detail);
        Assert.StartsWith("name:", name.Status.Detail);
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM workers WHERE name IN ('odd-device') OR name LIKE 'nul%'"));
    }

    [Theory]
    [InlineData("name", "long-name")]
    [InlineData("node", "long-node")]
    [InlineData("address", "long-address")]
    [InlineData("version", "long-version")]
    [InlineData("labels[zone]", "long-label")]
    [InlineData("labels[", "long-label-key")]
    [InlineData("labels", "many-labels")]
    public async Task Register_OverlongStringOrTooManyLabels_InvalidArgumentNamingFieldAndNoWorkerStored(string field, string name)
    {
        var huge = new string('x', 100_000);
        var request = new RegisterWorkerRequest { Name = name, Node = "host", Device = DeviceKind.Cpu, Address = "10.0.0.1", Version = "1.0" };
        switch (name)
        {
            case "long-name": request.Name = huge; break;
            case "long-node": request.Node = huge; break;
            case "long-address": request.Address = huge; break;
            case "long-version": request.Version = huge; break;
            case "long-label": request.Labels["zone"] = huge; break;
            case "long-label-key": request.Labels[huge] = "a"; break;
            case "many-labels": request.Labels.Add(Enumerable.Range(0, 1000).ToDictionary(i => $"k{i}", i => "v")); break;
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => new Workers.WorkersClient(server.AsWorker).RegisterAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith(field, error.Status.Detail);
        Assert.True(error.Status.Detail.Length < 300, $"the error echoes {error.Status.Detail.Length} characters");
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>($"SELECT count(*) FROM workers WHERE name = '{name}' OR length(name) > 1000"));
    }

    [Fact]
    public async Task List_UndefinedStateOrNulInLabel_InvalidArgumentNamingField()
    {
        var state = await Assert.ThrowsAsync<RpcException>(() => Jobs.ListAsync(new ListJobsRequest { States = { (JobState)42 } }).ResponseAsync);
        var label = await Assert.ThrowsAsync<RpcException>(() => Jobs.ListAsync(new ListJobsRequest { Labels = { ["team"] = "\0" } }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, state.StatusCode);
        Assert.StartsWith("states", state.Status.Detail);
        Assert.Equal(StatusCode.InvalidArgument, label.StatusCode);
        Assert.StartsWith("labels", label.Status.Detail);
    }

    [Fact]
    public async Task Get_UnknownJob_NotFound()
    {
        var id = Guid.NewGuid().ToString();

        var error = await Assert.ThrowsAsync<RpcException>(() => Jobs.GetAsync(new GetJobRequest { Id = id }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains(id, error.Status.Detail);
    }

    [Fact]
    public async Task Get_MalformedId_InvalidArgumentNamingField()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => Jobs.GetAsync(new GetJobRequest { Id = "job-42" }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("id:", error.Status.Detail);
    }

    [Fact]
    public async Task Cancel_FinishedJob_FailedPrecondition()
    {
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 8) });
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });

        var error = await Assert.ThrowsAsync<RpcException>(() => Jobs.CancelAsync(new CancelJobRequest { Id = job.Id }).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("CANCELLED", error.Status.Detail);
        await fixture.Database.ScalarAsync<int>("DELETE FROM jobs");
    }

    [Fact]
    public async Task Register_LiveNameTwice_AlreadyExists()
    {
        await using var first = await FakeWorker.StartAsync(server.AsWorker, "duplicate-name");

        var error = await Assert.ThrowsAsync<RpcException>(() => FakeWorker.StartAsync(server.AsWorker, "duplicate-name"));

        Assert.Equal(StatusCode.AlreadyExists, error.StatusCode);
        Assert.Contains("duplicate-name", error.Status.Detail);
    }

    [Fact]
    public async Task Heartbeat_UnknownWorker_NotFoundWorkerGone()
    {
        var id = Guid.NewGuid().ToString();
        var error = await Assert.ThrowsAsync<RpcException>(() => new Workers.WorkersClient(server.AsWorkerWith(id, "some-secret"))
            .HeartbeatAsync(new HeartbeatRequest { WorkerId = id }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("worker gone", error.Status.Detail);
    }

    [Theory]
    [InlineData("hash", StatusCode.DataLoss)]
    [InlineData("size", StatusCode.InvalidArgument)]
    public async Task UploadArtifact_ContentDoesNotMatchHeader_RejectedAndNothingStored(string mismatch, StatusCode expected)
    {
        await using var worker = await FakeWorker.StartAsync(server.AsWorker, $"uploader-{mismatch}");
        var content = new byte[1000];
        var header = new ArtifactHeader
        {
            Kind = ArtifactKind.File, Sha256 = mismatch == "hash" ? FakeWorker.Sha256([1]) : FakeWorker.Sha256(content),
            Size = mismatch == "size" ? 999 : content.Length,
        };

        var error = await Assert.ThrowsAsync<RpcException>(() => worker.UploadAsync(header, content, chunk: 100));

        Assert.Equal(expected, error.StatusCode);
        Assert.Contains(mismatch == "hash" ? "sha256" : "size", error.Status.Detail);
        Assert.Equal(0L, await fixture.Database.ScalarAsync<long>("SELECT count(*) FROM artifacts"));
        Assert.Empty(Directory.Exists(server.ArtifactRoot) ? Directory.GetFiles(server.ArtifactRoot, "*", SearchOption.AllDirectories) : []);
    }

    [Fact]
    public async Task JobArtifactsDownload_UnknownJob_NotFound()
    {
        using var call = new JobArtifacts.JobArtifactsClient(server.AsReader).Download(new DownloadJobArtifactRequest { JobId = Guid.NewGuid().ToString(), What = "model" });

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task Rendezvous_MessageAboveMaxMessageSize_ResourceExhausted()
    {
        var request = new PutRequest { RendezvousId = Guid.NewGuid().ToString(), Key = "big", Value = ByteString.CopyFrom(new byte[2 * 1024 * 1024]) };

        var error = await Assert.ThrowsAsync<RpcException>(() => new Rendezvous.RendezvousClient(server.AsWorker).PutAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task Rendezvous_GetOfKeyNeverPut_DeadlineExceededNamingKey()
    {
        await using var worker = await FakeWorker.StartAsync(server.AsWorker, "rendezvous-timeout");
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = Specs.Train(worldSize: 1) });
        var start = await worker.NextStartAsync();
        var rendezvous = new Rendezvous.RendezvousClient(worker.Invoker);

        var timeout = await Assert.ThrowsAsync<RpcException>(() => rendezvous.GetAsync(new GetRequest
        {
            RendezvousId = start.RendezvousId, Key = "nccl-unique-id", Timeout = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromMilliseconds(200)),
        }).ResponseAsync);
        var tooLarge = await Assert.ThrowsAsync<RpcException>(() => rendezvous.PutAsync(new PutRequest
        {
            RendezvousId = start.RendezvousId, Key = "blob", Value = ByteString.CopyFrom(new byte[65 * 1024]),
        }).ResponseAsync);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => rendezvous.PutAsync(new PutRequest
        {
            RendezvousId = Guid.NewGuid().ToString(), Key = "k",
        }).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, timeout.StatusCode);
        Assert.Contains("nccl-unique-id", timeout.Status.Detail);
        Assert.Equal(StatusCode.InvalidArgument, tooLarge.StatusCode);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        await Jobs.CancelAsync(new CancelJobRequest { Id = job.Id });
    }
}
