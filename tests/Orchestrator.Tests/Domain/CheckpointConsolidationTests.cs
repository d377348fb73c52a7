using SpectralDiffusion.Orchestrator.Artifacts;
using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Tests.Domain;

public class CheckpointConsolidationTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("consolidation-").FullName;

    static readonly Dictionary<string, float[]> Tensors = new() { ["a"] = [1f, 2f], ["b"] = [3f], ["c"] = [4f, 5f, 6f] };

    string Shard(byte[] content, string name)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    static async Task<byte[]> ReadAsync(ArtifactContent content)
    {
        var bytes = new MemoryStream();
        await foreach (var chunk in content.ChunksAsync(5, CancellationToken.None)) bytes.Write(chunk.Span);
        return bytes.ToArray();
    }

    [Fact]
    public async Task Plan_ThreeShards_SizeAndBytesOfOneShardHoldingEveryTensor()
    {
        var shards = Enumerable.Range(0, 3).Select(r => Shard(TestShards.Write(Tensors, r, 3, 10), $"s{r}")).ToList();

        var content = CheckpointConsolidation.Plan(shards);
        var bytes = await ReadAsync(content);
        var (metadata, tensors) = TestShards.Read(bytes);

        Assert.Equal(content.Size, bytes.LongLength);
        Assert.Equal(0, (bytes.Length - Tensors.Values.Sum(t => t.Length * 4)) % 8); // header padded to 8 bytes
        Assert.All(Tensors, t => Assert.Equal(t.Value, tensors[t.Key]));
        Assert.Equal(("0", "1", "10"), (metadata["rank"], metadata["world_size"], metadata["step"]));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), await content.Sha256Async(CancellationToken.None));
    }

    [Fact]
    public void Plan_ShardsOfDifferentSteps_DataLossNamingTheStep()
    {
        var shards = new[] { Shard(TestShards.Write(Tensors, 0, 2, 10), "s0"), Shard(TestShards.Write(Tensors, 1, 2, 20), "s1") };

        var error = Assert.Throws<OrchestratorException>(() => CheckpointConsolidation.Plan(shards));

        Assert.Equal(OrchestratorErrorKind.DataLoss, error.Kind);
        Assert.Contains("step '20'", error.Message);
    }

    [Fact]
    public void Plan_TruncatedShard_DataLossNamingTheFile()
    {
        var shards = new[] { Shard(TestShards.Write(Tensors, 0, 1, 10)[..12], "cut") };

        var error = Assert.Throws<OrchestratorException>(() => CheckpointConsolidation.Plan(shards));

        Assert.Equal(OrchestratorErrorKind.DataLoss, error.Kind);
        Assert.Contains("cut", error.Message);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
