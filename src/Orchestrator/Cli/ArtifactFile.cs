extern alias contracts;
using System.Security.Cryptography;
using Grpc.Core;
using SpectralDiffusion.Orchestrator.Artifacts;
using JobArtifactChunk = contracts::SpectralDiffusion.Shared.Contracts.V1.JobArtifactChunk;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary>Where a download went and what it held.</summary>
public sealed record SavedArtifact(string Name, string Path, long Size, string Sha256);

/// <summary>
/// Writes a JobArtifacts.Download stream to disk: into a temporary file beside the destination, checking the size and
/// SHA-256 that the header announced, and only then renamed to the final name. A download cut off midway, or one whose
/// content does not match, leaves nothing under the final name.
/// </summary>
public static class ArtifactFile
{
    /// <param name="destination">a file path, an existing folder (the artifact's own name inside it), or null (its name in the current folder)</param>
    public static async Task<SavedArtifact> SaveAsync(IAsyncStreamReader<JobArtifactChunk> stream, string? destination,
        Func<string, long, TransferProgress> progressFor, CancellationToken cancellation)
    {
        if (!await stream.MoveNext(cancellation) || stream.Current.PartCase != JobArtifactChunk.PartOneofCase.Header)
            throw new IOException("the orchestrator's answer did not start with the artifact's header");
        var header = stream.Current.Header;
        var path = Path.GetFullPath(destination is null ? JobArtifactCatalog.FileNameOf(header.Name)
            : Directory.Exists(destination) ? Path.Combine(destination, JobArtifactCatalog.FileNameOf(header.Name)) : destination);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.part");
        var progress = progressFor(header.Name, header.Size);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long received = 0;
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true))
            {
                while (await stream.MoveNext(cancellation))
                {
                    var data = stream.Current.Data.Memory;
                    hash.AppendData(data.Span);
                    await file.WriteAsync(data, cancellation);
                    received += data.Length;
                    progress.Report(received);
                }
            }
            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (received != header.Size) throw new IOException($"{header.Name}: received {received} bytes, the orchestrator announced {header.Size}; nothing was saved");
            if (actual != header.Sha256) throw new IOException($"{header.Name}: content hashes to sha256 {actual}, the orchestrator announced {header.Sha256}; nothing was saved");
            File.Move(temporary, path, overwrite: true);
            progress.Complete(received);
            return new SavedArtifact(header.Name, path, received, actual);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
