using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>The device this agent offers: the one pinned by --device, else CUDA device 0 when libtorch sees one, else the CPU.</summary>
public static class DeviceDetector
{
    public static (DeviceKind Kind, int Index) Detect(string requested)
    {
        TorchRuntime.EnsureLoaded();
        var cudaDevices = torch.cuda.is_available() ? torch.cuda.device_count() : 0;
        if (requested == "cpu") return (DeviceKind.Cpu, 0);
        if (requested.Length == 0) return cudaDevices > 0 ? (DeviceKind.Cuda, 0) : (DeviceKind.Cpu, 0);
        var index = requested == "cuda" ? 0 : int.Parse(requested["cuda:".Length..]);
        if (cudaDevices == 0)
            throw new InvalidOperationException($"--device {requested}: no CUDA device is visible to libtorch (this build's backend or the node has no GPU); use --device cpu or the cuda worker image");
        if (index >= cudaDevices)
            throw new InvalidOperationException($"--device {requested}: only {cudaDevices} CUDA device(s) are visible (0..{cudaDevices - 1})");
        return (DeviceKind.Cuda, index);
    }
}
