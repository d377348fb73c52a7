namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// A rendezvous in a directory that every rank can read (local multi-process runs and tests).
/// Each key is a file; a put writes a temporary file and renames it, so a get never sees half a value.
/// </summary>
public sealed class FileRendezvous : IRendezvous
{
    static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(2);
    static readonly TimeSpan LongestPoll = TimeSpan.FromMilliseconds(50);

    public FileRendezvous(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The directory that holds one file per key.</summary>
    public string Directory { get; }

    public async Task PutAsync(string key, byte[] value, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(value);
        var path = PathOf(key);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            await File.WriteAllBytesAsync(temporary, value, ct);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    public async Task<byte[]> GetAsync(string key, TimeSpan timeout, CancellationToken ct)
    {
        var path = PathOf(key);
        var deadline = DateTime.UtcNow + timeout;
        var poll = FirstPoll;
        while (true)
        {
            try
            {
                return await File.ReadAllBytesAsync(path, ct);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // Not put yet: poll again, backing off to LongestPoll.
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
                throw new TimeoutException($"rendezvous key '{key}' was not put within {timeout.TotalSeconds:0.###} s (file rendezvous in {Directory})");
            await Task.Delay(poll < left ? poll : left, ct);
            poll = TimeSpan.FromTicks(Math.Min(poll.Ticks * 2, LongestPoll.Ticks));
        }
    }

    /// <summary>Keys are '/'-separated segments of letters, digits, '.', '_' and '-'; each segment becomes a directory level.</summary>
    string PathOf(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var segments = key.Split('/');
        foreach (var segment in segments)
        {
            if (segment.Length == 0 || segment is "." or ".." || !segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                throw new ArgumentException(
                    $"rendezvous key '{key}' is invalid: use '/'-separated segments of letters, digits, '.', '_' and '-' (no empty, '.' or '..' segments)", nameof(key));
        }
        return Path.Combine([Directory, .. segments]);
    }
}
