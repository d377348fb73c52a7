using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace SpectralDiffusion.Orchestrator.Artifacts;

/// <summary>A byte range of a file in the artifact store.</summary>
public sealed record FileRange(string Path, long Offset, long Length);

/// <summary>
/// The bytes of one download, described rather than held: a small in-memory prefix followed by ranges of stored files.
/// A stored artifact is one whole-file range; a consolidated checkpoint is its new header and the tensor ranges of its
/// shards. Read in chunks, so a download of any size holds one chunk in memory.
/// </summary>
public sealed class ArtifactContent(byte[] prefix, IReadOnlyList<FileRange> ranges)
{
    public long Size { get; } = prefix.Length + ranges.Sum(r => r.Length);

    public static ArtifactContent WholeFile(string path) => new([], [new FileRange(path, 0, new FileInfo(path).Length)]);

    /// <summary>The content in chunks of at most <paramref name="chunkBytes"/>. The memory handed out is reused: consume
    /// each chunk before asking for the next.</summary>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ChunksAsync(int chunkBytes, [EnumeratorCancellation] CancellationToken cancellation)
    {
        for (var at = 0; at < prefix.Length; at += chunkBytes)
            yield return prefix.AsMemory(at, Math.Min(chunkBytes, prefix.Length - at));
        var buffer = new byte[chunkBytes];
        foreach (var range in ranges)
        {
            await using var file = new FileStream(range.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true);
            file.Position = range.Offset;
            for (var left = range.Length; left > 0;)
            {
                var read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellation);
                if (read == 0) throw new EndOfStreamException($"{range.Path} ended {left} bytes before the range it was read for");
                left -= read;
                yield return buffer.AsMemory(0, read);
            }
        }
    }

    /// <summary>The SHA-256 (lower-case hex) of the whole content, read once.</summary>
    public async Task<string> Sha256Async(CancellationToken cancellation)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await foreach (var chunk in ChunksAsync(ArtifactStore.ChunkBytes, cancellation)) hash.AppendData(chunk.Span);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
