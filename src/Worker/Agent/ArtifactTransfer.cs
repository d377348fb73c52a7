using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Rpc;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>Streams files to and from the orchestrator's content-addressed artifact store, checking SHA-256 both ways.</summary>
public sealed class ArtifactTransfer(Workers.WorkersClient client, string cacheDirectory)
{
    const int ChunkBytes = 1 << 20;

    public static string Sha256Hex(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Uploads <paramref name="path"/>; the header's hash and size are filled in here.</summary>
    public async Task<ArtifactReceipt> UploadAsync(string path, ArtifactHeader header, CancellationToken ct)
    {
        header.Sha256 = Sha256Hex(path);
        header.Size = new FileInfo(path).Length;
        if (header.Name.Length == 0) header.Name = Path.GetFileName(path);
        using var call = client.UploadArtifact(cancellationToken: ct);
        return await ClientStreams.SendAllAsync(call, Chunks(path, header, ct), ct);
    }

    /// <summary>The header, then the file in chunks of <see cref="ChunkBytes"/>.</summary>
    static async IAsyncEnumerable<ArtifactChunk> Chunks(string path, ArtifactHeader header, [EnumeratorCancellation] CancellationToken ct)
    {
        yield return new ArtifactChunk { Header = header };
        await using var stream = File.OpenRead(path);
        var buffer = new byte[ChunkBytes];
        int read;
        while ((read = await stream.ReadAsync(buffer, ct)) > 0)
            yield return new ArtifactChunk { Data = ByteString.CopyFrom(buffer, 0, read) };
    }

    /// <summary>Downloads "artifact:&lt;sha256&gt;" into the cache (once) and returns its path; a wrong hash is an error and leaves nothing behind.</summary>
    public async Task<string> DownloadAsync(string artifact, CancellationToken ct)
    {
        var sha = artifact.StartsWith("artifact:", StringComparison.Ordinal) ? artifact["artifact:".Length..] : artifact;
        Directory.CreateDirectory(cacheDirectory);
        var path = Path.Combine(cacheDirectory, sha);
        if (File.Exists(path)) return path;
        var temporary = path + $".{Guid.NewGuid():N}.part";
        try
        {
            using var call = client.DownloadArtifact(new DownloadArtifactRequest { Artifact = "artifact:" + sha }, cancellationToken: ct);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var file = File.Create(temporary))
                await foreach (var chunk in call.ResponseStream.ReadAllAsync(ct))
                    if (chunk.PartCase == ArtifactChunk.PartOneofCase.Data)
                    {
                        // Hashed as it arrives, so the file is not read back a second time to check it.
                        hash.AppendData(chunk.Data.Span);
                        chunk.Data.WriteTo(file);
                    }
            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            // An IOException, not InvalidDataException: a transfer that went wrong may pass on the next attempt.
            if (actual != sha) throw new IOException($"artifact {sha}: downloaded content hashes to {actual}; the copy was discarded");
            File.Move(temporary, path, overwrite: true);
            return path;
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
