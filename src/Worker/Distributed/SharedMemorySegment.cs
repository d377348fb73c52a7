using System.IO.MemoryMappedFiles;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// A file in <c>/dev/shm</c> mapped into every rank of one machine. Rank 0 creates it, the others open it by name, and
/// once every rank has mapped it rank 0 unlinks the name: the memory lives on while it is mapped and disappears with the
/// last rank, so a crash leaves nothing behind. A name left by a rank 0 that died before unlinking carries its process
/// id, and the next group on the machine removes it (<see cref="RemoveStale"/>).
/// </summary>
public sealed unsafe class SharedMemorySegment : IDisposable
{
    public const string Directory = "/dev/shm";
    public const string NamePrefix = "spectral-diffusion-collective-";
    readonly MemoryMappedFile map;
    readonly MemoryMappedViewAccessor view;
    bool released;

    SharedMemorySegment(string path, MemoryMappedFile map, long bytes)
    {
        Path = path;
        this.map = map;
        Bytes = bytes;
        view = map.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.ReadWrite);
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        Pointer = pointer + view.PointerOffset;
    }

    public string Path { get; }
    public long Bytes { get; }
    public byte* Pointer { get; }

    /// <summary>Creates a zero-filled segment of <paramref name="bytes"/> under a new name that carries this process's id.</summary>
    public static SharedMemorySegment Create(long bytes)
    {
        var path = System.IO.Path.Combine(Directory, $"{NamePrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        file.SetLength(bytes);
        var map = MemoryMappedFile.CreateFromFile(file, null, bytes, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
        return new SharedMemorySegment(path, map, bytes);
    }

    /// <summary>Maps the segment another rank created; its size must be <paramref name="bytes"/>.</summary>
    public static SharedMemorySegment Open(string path, long bytes)
    {
        if (!path.StartsWith(System.IO.Path.Combine(Directory, NamePrefix), StringComparison.Ordinal) || path.Contains("/../", StringComparison.Ordinal))
            throw new IOException($"'{path}' is not a collective segment under {Directory}");
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        if (file.Length != bytes)
            throw new IOException($"{path} holds {file.Length} bytes, expected {bytes} (a different group layout)");
        var map = MemoryMappedFile.CreateFromFile(file, null, bytes, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
        return new SharedMemorySegment(path, map, bytes);
    }

    /// <summary>Removes the name; the ranks that mapped the segment keep using it.</summary>
    public void Unlink()
    {
        try { File.Delete(Path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Deletes segments whose creating process no longer runs on this machine; returns how many.</summary>
    public static int RemoveStale()
    {
        if (!System.IO.Directory.Exists(Directory)) return 0;
        var removed = 0;
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, NamePrefix + "*"))
        {
            var name = System.IO.Path.GetFileName(path)[NamePrefix.Length..];
            var dash = name.IndexOf('-');
            if (dash <= 0 || !int.TryParse(name.AsSpan(0, dash), out var pid) || ProcessLiveness.IsAlive(pid)) continue;
            try
            {
                File.Delete(path);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another user's segment, or removed concurrently by another group.
            }
        }
        return removed;
    }

    public void Dispose()
    {
        if (released) return;
        released = true;
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        map.Dispose();
    }
}
