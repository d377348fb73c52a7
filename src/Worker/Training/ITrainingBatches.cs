using SpectralDiffusion.Worker.Models;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Training;

/// <summary>This rank's slice of each step's global batch: images in [-1, 1] (B, C, H, W) and their conditioning (class labels, captions or none).</summary>
public interface ITrainingBatches : IDisposable
{
    (Tensor Images, Conditioning Conditioning) Next();
}
