using SpectralDiffusion.Worker.Torch;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Training;

/// <summary>
/// The 1×1 conv aligners of L_spatial/L_freq: one per tapped student feature, mapping its channels to the
/// teacher's. They train with the student and are dropped from the final model. An aligner between equal
/// channel counts starts as the identity, so a student equal to its teacher has zero distillation loss.
/// </summary>
public sealed class FeatureAligners : nn.Module<string, Tensor, Tensor>
{
    readonly ModuleDict<Conv2d> aligners = new();
    readonly Dictionary<string, string> keys = new();

    /// <param name="channels">tap name → (student channels, teacher channels).</param>
    public FeatureAligners(IReadOnlyDictionary<string, (long Student, long Teacher)> channels) : base("aligners")
    {
        foreach (var (tap, (student, teacher)) in channels)
        {
            var key = tap.Replace('.', '_');
            var conv = nn.Conv2d(student, teacher, 1);
            if (student == teacher)
            {
                using var _ = no_grad();
                conv.weight!.copy_(eye(student).reshape(student, student, 1, 1));
                conv.bias!.zero_();
            }
            aligners.Add((key, conv));
            keys[tap] = key;
        }
        RegisterComponents();
    }

    public IReadOnlyCollection<string> Taps => keys.Keys;

    public override Tensor forward(string tap, Tensor studentFeature)
    {
        if (!keys.TryGetValue(tap, out var key))
            throw new ArgumentException($"no aligner for feature '{tap}'; aligned taps: {string.Join(", ", keys.Keys)}", nameof(tap));
        return ChannelAlignedConvolution.Forward(aligners[key], studentFeature);
    }
}
