using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>A job's artifacts for its users (read key), and what a worker may download (only its attempt's inputs).</summary>
public class JobArtifactsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    readonly OrchestratorServer server = fixture.Server;

    static async Task<(JobArtifact Header, byte[] Content)> DownloadAsync(JobArtifacts.JobArtifactsClient client, string jobId, string what)
    {
        using var call = client.Download(new DownloadJobArtifactRequest { JobId = jobId, What = what });
        Assert.True(await call.ResponseStream.MoveNext());
        var header = call.ResponseStream.Current.Header;
        var content = new MemoryStream();
        await foreach (var chunk in call.ResponseStream.ReadAllAsync()) chunk.Data.WriteTo(content);
        return (header, content.ToArray());
    }

    [Fact]
    public async Task List_FinishedJob_NamesModelCheckpointShardsAndFilesWithSizeAndSha256()
    {
        var finished = await FinishedJob.RunAsync(server, "artifacts-list");

        var listed = (await new JobArtifacts.JobArtifactsClient(server.AsReader).ListAsync(new ListJobArtifactsRequest { JobId = finished.JobId })).Artifacts;

        Assert.Equal(["model.safetensors", "checkpoint-20.safetensors", "checkpoint-20/shard-0-of-2.safetensors",
            "checkpoint-20/shard-1-of-2.safetensors", "metrics.csv"], listed.Select(a => a.Name));
        Assert.Equal(["model", "checkpoint", "checkpoint_shard", "checkpoint_shard", "file"], listed.Select(a => a.Kind));
        Assert.Equal((finished.Model.Length, FakeWorker.Sha256(finished.Model)), (listed[0].Size, listed[0].Sha256));
        Assert.Equal((20L, 2), (listed[1].Step, listed[1].WorldSize));
        Assert.Equal((finished.Shard1.Length, FakeWorker.Sha256(finished.Shard1), 1), (listed[3].Size, listed[3].Sha256, listed[3].Rank));
        Assert.Equal((finished.Csv.Length, FakeWorker.Sha256(finished.Csv)), (listed[4].Size, listed[4].Sha256));
    }

    [Fact]
    public async Task List_ConsolidatedCheckpoint_Sha256OfTheDownloadedBytesKeptInTheDatabase()
    {
        var finished = await FinishedJob.RunAsync(server, "artifacts-checkpoint-sha");
        var client = new JobArtifacts.JobArtifactsClient(server.AsReader);

        var listed = (await client.ListAsync(new ListJobArtifactsRequest { JobId = finished.JobId })).Artifacts.Single(a => a.Kind == "checkpoint");
        var (header, content) = await DownloadAsync(client, finished.JobId, listed.Name);
        var kept = await server.Services.GetRequiredService<Database>().ReadAsync((connection, token) => connection.QuerySingleOrDefaultAsync(
            "SELECT consolidated_sha256 FROM checkpoints WHERE job_id = @job", r => r.GetString(0), token, ("job", Guid.Parse(finished.JobId))), default);

        Assert.Equal((content.LongLength, FakeWorker.Sha256(content)), (listed.Size, listed.Sha256));
        Assert.Equal(listed.Sha256, header.Sha256);
        Assert.Equal(listed.Sha256, kept);
    }

    [Fact]
    public async Task Download_ModelWithReadKey_HeaderFirstThenContentMatchingItsSha256()
    {
        var finished = await FinishedJob.RunAsync(server, "artifacts-model");

        var (header, content) = await DownloadAsync(new JobArtifacts.JobArtifactsClient(server.AsReader), finished.JobId, "model");

        Assert.Equal(finished.Model, content);
        Assert.Equal(("model.safetensors", content.LongLength, FakeWorker.Sha256(content)), (header.Name, header.Size, header.Sha256));
    }

    [Fact]
    public async Task Download_CheckpointStep_OneShardOfWorldSizeOneHoldingEveryTensor()
    {
        var finished = await FinishedJob.RunAsync(server, "artifacts-consolidate");
        var client = new JobArtifacts.JobArtifactsClient(server.AsReader);

        var (header, content) = await DownloadAsync(client, finished.JobId, "checkpoint:20");
        var (_, newest) = await DownloadAsync(client, finished.JobId, "checkpoint");
        var (metadata, tensors) = TestShards.Read(content);

        Assert.Equal((content.LongLength, FakeWorker.Sha256(content), "checkpoint-20.safetensors"), (header.Size, header.Sha256, header.Name));
        Assert.Equal(content, newest);
        Assert.Equal(FinishedJob.Tensors.Keys.Order(), tensors.Keys.Order());
        Assert.All(FinishedJob.Tensors, t => Assert.Equal(t.Value, tensors[t.Key]));
        Assert.Equal(("0", "1", "20", "5", "7", "tiny-ldm"),
            (metadata["rank"], metadata["world_size"], metadata["step"], metadata["tensor_count"], metadata["seed"], metadata["preset"]));
    }

    [Fact]
    public async Task Download_ShardAndFileByListedName_EqualTheUploadedBytes()
    {
        var finished = await FinishedJob.RunAsync(server, "artifacts-shard");
        var client = new JobArtifacts.JobArtifactsClient(server.AsReader);

        var (_, shard) = await DownloadAsync(client, finished.JobId, "checkpoint-20/shard-1-of-2.safetensors");
        var (_, csv) = await DownloadAsync(client, finished.JobId, "metrics.csv");

        Assert.Equal(finished.Shard1, shard);
        Assert.Equal(finished.Csv, csv);
    }

    [Theory]
    [InlineData("checkpoint:99", "step 99")]
    [InlineData("nothing.png", "'nothing.png'")]
    [InlineData("checkpoint-20/shard-2-of-2.safetensors", "'checkpoint-20/shard-2-of-2.safetensors'")]
    public async Task Download_UnknownStepOrName_NotFoundNamingIt(string what, string named)
    {
        var finished = await FinishedJob.RunAsync(server, "artifacts-unknown");

        var error = await Assert.ThrowsAsync<RpcException>(() => DownloadAsync(new JobArtifacts.JobArtifactsClient(server.AsReader), finished.JobId, what));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains(named, error.Status.Detail);
    }

    [Fact]
    public async Task ListAndDownload_UnknownJob_NotFoundNamingTheJob()
    {
        var client = new JobArtifacts.JobArtifactsClient(server.AsReader);
        var unknown = Guid.NewGuid().ToString();

        var listing = await Assert.ThrowsAsync<RpcException>(async () => await client.ListAsync(new ListJobArtifactsRequest { JobId = unknown }));
        var download = await Assert.ThrowsAsync<RpcException>(() => DownloadAsync(client, unknown, "model"));

        Assert.All([listing, download], e => Assert.Equal((StatusCode.NotFound, true), (e.StatusCode, e.Status.Detail.Contains(unknown))));
    }

    [Fact]
    public async Task Download_WorkerTokenInsteadOfApiKey_Unauthenticated()
    {
        var finished = await FinishedJob.RunAsync(server, "artifacts-token");

        var error = await Assert.ThrowsAsync<RpcException>(() => DownloadAsync(new JobArtifacts.JobArtifactsClient(server.AsWorker), finished.JobId, "model"));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task DownloadArtifact_WorkerOfAnotherJob_PermissionDeniedButItsOwnInputStreams()
    {
        // Arrange: a finished job, and a second job (training on from the first's model) whose ranks a and b run now.
        var first = await FinishedJob.RunAsync(server, "scope-first");
        var spec = Specs.Train(worldSize: 2);
        spec.Model.Checkpoint = "job:" + first.JobId;
        await using var second = await TwoRankJob.StartAsync(server, "scope-second", spec);
        var shard = "artifact:" + FakeWorker.Sha256(first.Shard0);

        // Act
        var input = await ReadAllAsync(second.A.Client, second.StartA.ModelArtifact);
        var denied = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(second.A.Client, shard));
        await using var idle = await FakeWorker.StartAsync(server.AsWorker, "scope-idle");
        var idleDenied = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(idle.Client, second.StartA.ModelArtifact));

        // Assert: its own input streams; another job's checkpoint shard, or any artifact to a worker without an attempt, does not.
        Assert.Equal(first.Model, input);
        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Contains($"job {second.Job.Id} attempt 1", denied.Status.Detail);
        Assert.Equal(StatusCode.PermissionDenied, idleDenied.StatusCode);
    }

    [Fact]
    public async Task DownloadArtifact_RegistrationTokenAlone_Unauthenticated()
    {
        var finished = await FinishedJob.RunAsync(server, "scope-token");

        var error = await Assert.ThrowsAsync<RpcException>(() => ReadAllAsync(new Workers.WorkersClient(server.AsWorker), "artifact:" + FakeWorker.Sha256(finished.Model)));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    static async Task<byte[]> ReadAllAsync(Workers.WorkersClient client, string artifact)
    {
        using var call = client.DownloadArtifact(new DownloadArtifactRequest { Artifact = artifact });
        var content = new MemoryStream();
        await foreach (var chunk in call.ResponseStream.ReadAllAsync())
            if (chunk.PartCase == ArtifactChunk.PartOneofCase.Data) chunk.Data.WriteTo(content);
        return content.ToArray();
    }
}
