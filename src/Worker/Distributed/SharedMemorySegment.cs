using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// A file in <c>/dev/shm</c> mapped into every rank of one machine. Rank 0 creates it, the others open it by name, and
/// once every rank has mapped it rank 0 unlinks the name: the memory lives on while it is mapped and disappears with the
/// last rank, so a crash leaves nothing behind. A name left by a rank 0 that died before unlinking carries its process
/// id, and the next group on the machine removes it (<see cref="RemoveStale"/>).
/// On Linux the whole size is reserved when the file is created (<c>posix_fallocate</c>), so a /dev/shm without room
/// fails there with an <see cref="IOException"/> instead of with SIGBUS at the first write into a missing page.
/// </summary>
public sealed unsafe partial class SharedMemorySegment : IDisposable
{
    const int NoRoomError = 28; // ENOSPC
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

    [LibraryImport("libc", EntryPoint = "posix_fallocate")]
    private static partial int PosixFallocate(nint fileDescriptor, long offset, long length);

    /// <summary>
    /// Creates a zero-filled segment of <paramref name="bytes"/> under a new name that carries this process's id; throws an
    /// <see cref="IOException"/> (and leaves no file) when /dev/shm has no room for it.
    /// </summary>
    public static SharedMemorySegment Create(long bytes)
    {
        var path = System.IO.Path.Combine(Directory, $"{NamePrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            file.SetLength(bytes);
            if (OperatingSystem.IsLinux() && PosixFallocate(file.SafeFileHandle.DangerousGetHandle(), 0, bytes) == NoRoomError)
                throw new IOException($"{Directory} has no room for a {bytes}-byte collective segment");
            var map = MemoryMappedFile.CreateFromFile(file, null, bytes, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
            return new SharedMemorySegment(path, map, bytes);
        }
        catch
        {
            try { File.Delete(path); }
            catch (IOException) { }
            throw;
        }
    }

    /// <summary>Maps the whole segment another rank created (its creator's header says what the size must be).</summary>
    public static SharedMemorySegment Open(string path)
    {
        if (!path.StartsWith(System.IO.Path.Combine(Directory, NamePrefix), StringComparison.Ordinal) || path.Contains("/../", StringComparison.Ordinal))
            throw new IOException($"'{path}' is not a collective segment under {Directory}");
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        if (file.Length == 0)
            throw new IOException($"{path} is empty (not a collective segment)");
        var map = MemoryMappedFile.CreateFromFile(file, null, file.Length, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
        return new SharedMemorySegment(path, map, file.Length);
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
