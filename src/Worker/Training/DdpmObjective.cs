using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Training;

/// <summary>ε-prediction: L_ddpm = ‖ε − ε_θ(x_t, t)‖², x_t = √ᾱ_t x0 + √(1−ᾱ_t) ε (DDPM, LDM).</summary>
public sealed class DdpmObjective : ITrainingObjective
{
    readonly UNetModel model;
    readonly NoiseSchedule schedule;
    readonly List<(string, Parameter)> parameters;

    public DdpmObjective(UNetModel model, NoiseSchedule schedule)
    {
        this.model = model;
        this.schedule = schedule;
        parameters = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => ("model." + p.name, p.parameter)).ToList();
    }

    public nn.Module Model => model;
    public IReadOnlyList<(string Name, Parameter Parameter)> TrainableParameters => parameters;

    public IEnumerable<(string Name, Tensor Tensor)> StateTensors() => ModelState.Tensors("model.", model);

    public IReadOnlyDictionary<string, Tensor> Loss(Tensor x0, Conditioning conditioning, Tensor timesteps, Tensor noise)
    {
        var xt = schedule.QSample(x0, timesteps, noise);
        var prediction = model.forward(xt, timesteps, conditioning);
        var loss = nn.functional.mse_loss(prediction, noise);
        return new Dictionary<string, Tensor> { ["loss"] = loss, ["loss_ddpm"] = loss };
    }

    public void Dispose() { }
}
