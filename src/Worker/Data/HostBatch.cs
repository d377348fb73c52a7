using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Data;

/// <summary>
/// A batch decoded into host memory (float CHW pixels in [−1, 1], labels and, for captioned datasets, the caption
/// embeddings), built off the training thread. Turn it into tensors on the training thread, inside its dispose scope.
/// </summary>
/// <param name="ResumeState">The sampler state just after this batch: save it to resume with the batch that follows.</param>
/// <param name="Contexts">B·L·D caption embedding floats, or null for a dataset without captions.</param>
public sealed record HostBatch(float[] Pixels, long[] Labels, int[] Indices, ImageShape Shape, SamplerState ResumeState,
    float[]? Contexts = null, int ContextTokens = 0, int ContextDim = 0)
{
    public int Count => Indices.Length;

    /// <summary>(B, C, H, W) float32 images.</summary>
    public Tensor Images(Device? device = null)
    {
        var images = tensor(Pixels, [Count, Shape.Channels, Shape.Height, Shape.Width]);
        return device is null || device.type == DeviceType.CPU ? images : images.to(device);
    }

    /// <summary>(B) int64 class labels.</summary>
    public Tensor ClassLabels(Device? device = null) => tensor(Labels, [Count], device: device);

    /// <summary>(B, L, D) float32 caption embeddings.</summary>
    public Tensor Context(Device? device = null)
    {
        if (Contexts is null) throw new InvalidOperationException("this batch comes from a dataset without caption embeddings");
        var context = tensor(Contexts, [Count, ContextTokens, ContextDim]);
        return device is null || device.type == DeviceType.CPU ? context : context.to(device);
    }
}
