using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Training;

/// <summary>This rank's slice of each step's global batch: images in [-1, 1] (B, C, H, W) and class labels (B) or null.</summary>
public interface ITrainingBatches : IDisposable
{
    (Tensor Images, Tensor? Labels) Next();
}
