using System.Runtime.InteropServices;

namespace SpectralDiffusion.Worker.Torch;

/// <summary>
/// Switches of libtorch's global <c>at::Context</c> that TorchSharp 0.107 does not expose (PyTorch's
/// <c>torch.backends.*.enabled</c>), called through their exported C++ symbols in libtorch_cpu.
/// </summary>
static partial class LibTorchContext
{
    const string Library = "libtorch_cpu";

    [LibraryImport(Library, EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport(Library, EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static partial void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport(Library, EntryPoint = "_ZNK2at7Context17userEnabledNNPACKEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool UserEnabledNnpack(IntPtr context);

    /// <summary>
    /// Turns NNPACK off. libtorch tries it for some CPU convolutions, and on CPUs it does not support it logs
    /// "Could not initialize NNPACK! Reason: Unsupported hardware" at every such call (tens of thousands of lines an
    /// hour) before falling back. Returns false when the symbol is missing (another libtorch build).
    /// </summary>
    public static bool TryDisableNnpack()
    {
        try
        {
            var context = GlobalContext();
            SetUserEnabledNnpack(context, false);
            return !UserEnabledNnpack(context);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }
}
