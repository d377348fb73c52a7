using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Training;

/// <summary>Named parameters and buffers of a module, prefixed, as checkpoint entries.</summary>
public static class ModelState
{
    public static IEnumerable<(string Name, Tensor Tensor)> Tensors(string prefix, nn.Module module) =>
        module.named_parameters().Select(p => (prefix + p.name, (Tensor)p.parameter))
              .Concat(module.named_buffers().Select(b => (prefix + b.name, b.buffer)));
}
