using System.Text;
using TorchSharp;

namespace SpectralDiffusion.Worker.Torch;

/// <summary>Loads libtorch once and turns TorchSharp's misleading load failure into an actionable message.</summary>
public static class TorchRuntime
{
    const string RequiredGlibcxx = "GLIBCXX_3.4.32";
    static readonly object Gate = new();
    static bool loaded;

    /// <summary>Ensures the native TorchSharp libraries load; throws <see cref="TorchLoadException"/> naming the cause otherwise.</summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (loaded) return;
            try
            {
                torch.InitializeDeviceType(DeviceType.CPU);
                LibTorchContext.TryDisableNnpack();
                loaded = true;
            }
            catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException)
            {
                throw new TorchLoadException(Diagnose(e), e);
            }
        }
    }

    /// <summary>Sets the intra-op thread count for the whole process (agents that share a node split its cores).</summary>
    public static void SetThreads(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "torch thread count must be at least 1");
        EnsureLoaded();
        torch.set_num_threads(threads);
    }

    static string Diagnose(Exception e)
    {
        var library = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories).FirstOrDefault();
        if (library is null)
            return $"TorchSharp could not load: libLibTorchSharp.so is not under {AppContext.BaseDirectory}. " +
                   "Rebuild the Worker (dotnet build) so the libtorch native package is copied to the output.";
        var needsNewLibStdCxx = FileContains(library, RequiredGlibcxx);
        var systemLibStdCxx = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" }.FirstOrDefault(File.Exists);
        if (needsNewLibStdCxx && systemLibStdCxx is not null && !FileContains(systemLibStdCxx, RequiredGlibcxx))
            return $"TorchSharp could not load {library}: it requires {RequiredGlibcxx} and {systemLibStdCxx} does not provide it. " +
                   "The build marks that requirement weak in the output folder; this copy was not patched. " +
                   "Rebuild with `dotnet build` (the FixTorchSharpLoad target runs after Build and Publish), or install GCC 13's libstdc++.";
        return $"TorchSharp could not load {library}: {e.GetBaseException().Message}. Run `ldd {library}` to see which dependency is missing.";
    }

    static bool FileContains(string path, string text)
    {
        var needle = Encoding.ASCII.GetBytes(text);
        var bytes = File.ReadAllBytes(path);
        return bytes.AsSpan().IndexOf(needle) >= 0;
    }
}

/// <summary>The native Torch libraries could not be loaded; the message says why and what to do.</summary>
public sealed class TorchLoadException(string message, Exception inner) : Exception(message, inner);
