using SpectralDiffusion.Worker.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Training;

/// <summary>What a training step minimises, given clean images, their conditioning, timesteps and noise. Implementations:
/// <see cref="DdpmObjective"/> (teachers and baselines) and <see cref="DistillationObjective"/> (SD students).</summary>
public interface ITrainingObjective : IDisposable
{
    /// <summary>The network being trained (exported at the end, EMA-averaged).</summary>
    nn.Module Model { get; }

    /// <summary>Every parameter the optimiser updates, by checkpoint name ("model.*", "aligners.*").</summary>
    IReadOnlyList<(string Name, Parameter Parameter)> TrainableParameters { get; }

    /// <summary>Every tensor that must be checkpointed besides the optimiser and EMA: parameters and buffers, by name.</summary>
    IEnumerable<(string Name, Tensor Tensor)> StateTensors();

    /// <summary>The losses of one batch: key "loss" is the total that is minimised; others are its logged terms.</summary>
    IReadOnlyDictionary<string, Tensor> Loss(Tensor x0, Conditioning conditioning, Tensor timesteps, Tensor noise);
}
