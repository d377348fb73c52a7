using System.Security.Cryptography;
using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Artifacts;

/// <summary>
/// The content-addressed folder: <c>ROOT/ab/abcdef…</c> by SHA-256. Content is streamed to a temp file under
/// <c>ROOT/tmp</c>, its size and hash checked, and only then renamed into place: nothing is ever half-stored.
/// </summary>
public sealed class ArtifactStore(string root)
{
    public const int ChunkBytes = 256 * 1024;

    public string Root { get; } = Path.GetFullPath(root);

    public string PathOf(string sha256) => Path.Combine(Root, sha256[..2], sha256);

    public bool Exists(string sha256) => File.Exists(PathOf(sha256));

    /// <summary>Stores <paramref name="chunks"/> if they are exactly <paramref name="size"/> bytes hashing to <paramref name="sha256"/>.</summary>
    public async Task StoreAsync(IAsyncEnumerable<ReadOnlyMemory<byte>> chunks, string sha256, long size, CancellationToken cancellation)
    {
        Directory.CreateDirectory(Path.Combine(Root, "tmp"));
        var temp = Path.Combine(Root, "tmp", $"{Guid.NewGuid():N}.part");
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long received = 0;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, ChunkBytes, useAsync: true))
            {
                await foreach (var chunk in chunks.WithCancellation(cancellation))
                {
                    received += chunk.Length;
                    if (received > size)
                        throw OrchestratorException.Invalid("header.size", $"is {size} bytes but more content arrived");
                    hash.AppendData(chunk.Span);
                    await file.WriteAsync(chunk, cancellation);
                }
                await file.FlushAsync(cancellation);
            }
            if (received != size)
                throw OrchestratorException.Invalid("header.size", $"is {size} bytes but {received} arrived");
            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (actual != sha256)
                throw new OrchestratorException(OrchestratorErrorKind.DataLoss, $"content hashes to sha256 {actual}, header.sha256 says {sha256}; nothing stored");
            Directory.CreateDirectory(Path.GetDirectoryName(PathOf(sha256))!);
            if (!File.Exists(PathOf(sha256))) File.Move(temp, PathOf(sha256), overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public Stream OpenRead(string sha256) =>
        new FileStream(PathOf(sha256), FileMode.Open, FileAccess.Read, FileShare.Read, ChunkBytes, useAsync: true);

    /// <summary>Whether the stored file exists and its content still hashes to <paramref name="sha256"/> (a disk fault or a
    /// truncated copy fails this).</summary>
    public bool Verify(string sha256)
    {
        var path = PathOf(sha256);
        if (!File.Exists(path)) return false;
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream)) == sha256;
    }

    /// <summary>A file under the root: stored content (<see cref="Sha256"/> set) or an upload's temp file (null).</summary>
    public sealed record StoredFile(string Path, string? Sha256, long Bytes, DateTime LastWriteUtc);

    /// <summary>Every stored content file and every temp file of an upload, as the folder holds them now.</summary>
    public IEnumerable<StoredFile> StoredFiles()
    {
        if (!Directory.Exists(Root)) yield break;
        foreach (var folder in Directory.EnumerateDirectories(Root))
        {
            var temp = Path.GetFileName(folder) == "tmp";
            foreach (var file in Directory.EnumerateFiles(folder).Select(path => new FileInfo(path)))
                if (temp || (Shared.Jobs.ModelReference.IsSha256(file.Name) && file.Name.StartsWith(Path.GetFileName(folder), StringComparison.Ordinal)))
                    yield return new StoredFile(file.FullName, temp ? null : file.Name, file.Length, file.LastWriteTimeUtc);
        }
    }

    /// <summary>Removes a stored file whose database record was never written (a rolled-back upload) or was deleted.</summary>
    public void Forget(string sha256)
    {
        if (File.Exists(PathOf(sha256))) File.Delete(PathOf(sha256));
    }
}
