using System.Security.Cryptography;
using SpectralDiffusion.Orchestrator.Artifacts;
using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Tests.Domain;

public sealed class ArtifactStoreTests : IDisposable
{
    readonly ArtifactStore store = new(Path.Combine(Path.GetTempPath(), "sd-store-" + Guid.NewGuid().ToString("N")));

    [Fact]
    public async Task StoreAsync_MatchingContent_StoredUnderItsHash()
    {
        var content = RandomNumberGenerator.GetBytes(10_000);
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));

        await store.StoreAsync(Chunks(content, 999), sha, content.Length, CancellationToken.None);

        Assert.Equal(content, await File.ReadAllBytesAsync(store.PathOf(sha)));
        Assert.Empty(Directory.GetFiles(Path.Combine(store.Root, "tmp")));
    }

    [Fact]
    public async Task StoreAsync_MoreBytesThanHeader_InvalidAndNoFileLeft()
    {
        var content = new byte[100];
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));

        var error = await Assert.ThrowsAsync<OrchestratorException>(() => store.StoreAsync(Chunks(content, 10), sha, 50, CancellationToken.None));

        Assert.Equal(OrchestratorErrorKind.InvalidArgument, error.Kind);
        Assert.False(store.Exists(sha));
        Assert.Empty(Directory.GetFiles(store.Root, "*", SearchOption.AllDirectories));
    }

    static async IAsyncEnumerable<ReadOnlyMemory<byte>> Chunks(byte[] content, int size)
    {
        for (var offset = 0; offset < content.Length; offset += size)
        {
            await Task.Yield();
            yield return content.AsMemory(offset, Math.Min(size, content.Length - offset));
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(store.Root)) Directory.Delete(store.Root, recursive: true);
    }
}
