using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Diffusion;

/// <summary>
/// The network as the samplers see it: predicts the noise ε(x_t, t[, y]) for a batch.
/// <paramref name="timesteps"/> is an int64 tensor of shape (B); <paramref name="classLabels"/> is int64 (B) or null for unconditional models.
/// </summary>
public delegate Tensor Denoiser(Tensor x, Tensor timesteps, Tensor? classLabels);

/// <summary>Called once per denoising step, after the network ran for it (so state the model recorded, e.g. its gate values, belongs to this step).</summary>
/// <param name="stepIndex">0 for the first (noisiest) step, up to the number of steps − 1.</param>
/// <param name="timestep">The diffusion timestep t the network saw at this step.</param>
public delegate void DenoisingStepCallback(int stepIndex, int timestep);
