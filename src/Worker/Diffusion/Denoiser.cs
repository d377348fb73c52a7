using SpectralDiffusion.Worker.Models;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Diffusion;

/// <summary>
/// The network as the samplers see it: predicts the noise ε(x_t, t, c) for a batch.
/// <paramref name="timesteps"/> is an int64 tensor of shape (B); <paramref name="conditioning"/> holds B class labels or
/// caption contexts, or is <see cref="Conditioning.None"/> for unconditional models.
/// </summary>
public delegate Tensor Denoiser(Tensor x, Tensor timesteps, Conditioning conditioning);

/// <summary>Called once per denoising step, after the network ran for it (so state the model recorded, e.g. its gate values, belongs to this step).</summary>
/// <param name="stepIndex">0 for the first (noisiest) step, up to the number of steps − 1.</param>
/// <param name="timestep">The diffusion timestep t the network saw at this step.</param>
public delegate void DenoisingStepCallback(int stepIndex, int timestep);
