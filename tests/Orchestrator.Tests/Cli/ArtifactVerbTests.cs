using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using SpectralDiffusion.Orchestrator.Cli;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests.Cli;

/// <summary><c>orchestrator artifacts</c> and <c>download</c> against a real server with a read key, and the file writing
/// that makes a download whole or absent.</summary>
[Collection(ConsoleOutput.Name)]
public class ArtifactVerbTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    readonly OrchestratorServer server = fixture.Server;
    readonly string folder = Directory.CreateTempSubdirectory("download-").FullName;

    async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments) =>
        await ConsoleOutput.CaptureAsync(() =>
            OrchestratorCli.Build().Parse([.. arguments, "--address", server.Address, "--api-key", OrchestratorServer.ReadKey]).InvokeAsync());

    [Fact]
    public async Task Artifacts_Json_OneDocumentNamingEveryArtifact()
    {
        var finished = await FinishedJob.RunAsync(server, "verb-artifacts");

        var (exitCode, output) = await RunAsync("artifacts", finished.JobId, "--json");
        using var document = JsonDocument.Parse(output);

        Assert.Equal(0, exitCode);
        Assert.Equal(["model.safetensors", "checkpoint-20.safetensors", "checkpoint-20/shard-0-of-2.safetensors",
            "checkpoint-20/shard-1-of-2.safetensors", "metrics.csv"],
            document.RootElement.GetProperty("artifacts").EnumerateArray().Select(a => a.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Download_ModelIntoFolder_WritesTheFileUnderItsNameWithTheAnnouncedSha256()
    {
        var finished = await FinishedJob.RunAsync(server, "verb-download");

        var (exitCode, output) = await RunAsync("download", finished.JobId, "--out", folder, "--json");
        using var document = JsonDocument.Parse(output);

        Assert.True(exitCode == 0, output);
        var path = Path.Combine(folder, "model.safetensors");
        Assert.Equal(finished.Model, File.ReadAllBytes(path));
        Assert.Equal((path, FakeWorker.Sha256(finished.Model)), (document.RootElement.GetProperty("path").GetString(), document.RootElement.GetProperty("sha256").GetString()));
        Assert.Equal(["model.safetensors"], Directory.GetFiles(folder).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Download_UnknownStep_ExitCodeOneNamingTheStepAndNoFile()
    {
        var finished = await FinishedJob.RunAsync(server, "verb-unknown");

        var (exitCode, output) = await RunAsync("download", finished.JobId, "--what", "checkpoint:7", "--out", folder);

        Assert.Equal(1, exitCode);
        Assert.Contains("step 7", output);
        Assert.Empty(Directory.GetFiles(folder));
    }

    [Fact]
    public async Task SaveAsync_StreamCutOffMidway_NoFileUnderTheFinalNameAndNoTemporaryLeft()
    {
        var content = new byte[1000];
        var stream = new ChunkStream(Header("model.safetensors", content), [content[..400]], failAfter: true);
        var path = Path.Combine(folder, "model.safetensors");

        await Assert.ThrowsAsync<RpcException>(() => ArtifactFile.SaveAsync(stream, path, Quiet, CancellationToken.None));

        Assert.Empty(Directory.GetFiles(folder));
    }

    [Fact]
    public async Task SaveAsync_ContentNotMatchingTheAnnouncedSha256_IOExceptionAndNoFile()
    {
        var content = "what the orchestrator hashed"u8.ToArray();
        var stream = new ChunkStream(Header("metrics.csv", content), ["what arrived instead!!!!!!!!"u8.ToArray()], failAfter: false);

        var error = await Assert.ThrowsAsync<IOException>(() => ArtifactFile.SaveAsync(stream, folder, Quiet, CancellationToken.None));

        Assert.Contains("sha256", error.Message);
        Assert.Empty(Directory.GetFiles(folder));
    }

    [Theory]
    [InlineData("checkpoint-20/shard-1-of-2.safetensors", "checkpoint-20-shard-1-of-2.safetensors")]
    [InlineData("../../etc/passwd", "..-..-etc-passwd")]
    public void FileNameOf_ListedName_APlainFileNameInTheFolder(string name, string expected) =>
        Assert.Equal(expected, SpectralDiffusion.Orchestrator.Artifacts.JobArtifactCatalog.FileNameOf(name));

    static TransferProgress Quiet(string name, long total) => new(name, total, TextWriter.Null, interactive: false);

    static JobArtifact Header(string name, byte[] content) => new() { Name = name, Size = content.Length, Sha256 = FakeWorker.Sha256(content) };

    /// <summary>A header and data chunks, then either the end or a lost connection.</summary>
    sealed class ChunkStream(JobArtifact header, byte[][] chunks, bool failAfter) : IAsyncStreamReader<JobArtifactChunk>
    {
        int next = -1;
        public JobArtifactChunk Current { get; private set; } = null!;

        public Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            next++;
            if (next == 0) Current = new JobArtifactChunk { Header = header };
            else if (next <= chunks.Length) Current = new JobArtifactChunk { Data = ByteString.CopyFrom(chunks[next - 1]) };
            else if (failAfter) throw new RpcException(new Status(StatusCode.Unavailable, "connection lost"));
            else return Task.FromResult(false);
            return Task.FromResult(true);
        }
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
