using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Models;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>Builds the UNet a <see cref="ModelSpec"/> names: the preset, initialised from the run's seed, then the weights file if any.</summary>
public static class ModelLoader
{
    public static UNetModel Load(ModelSpec spec, string? weightsPath, long seed)
    {
        if (weightsPath is null)
        {
            manual_seed(seed);
            return new UNetModel(JobRecipes.For(spec).UNet);
        }
        var model = UNetCheckpoint.LoadAny(weightsPath, UNetCheckpoint.IsOurFormat(weightsPath) && !spec.UseEma ? null : spec.Preset, spec.UseEma);
        var expected = UNetPresets.Get(spec.Preset);
        if (!SameArchitecture(model.Config, expected))
        {
            model.Dispose();
            throw new ArgumentException($"{weightsPath} holds a different architecture than preset '{spec.Preset}'; name the preset it was trained as");
        }
        return model;
    }

    static bool SameArchitecture(UNetConfig a, UNetConfig b) =>
        a.ModelChannels == b.ModelChannels && a.ChannelMult.SequenceEqual(b.ChannelMult) && a.NumResBlocks == b.NumResBlocks
        && a.WaveletGating == b.WaveletGating && a.NumClasses == b.NumClasses && a.InChannels == b.InChannels
        && a.ContextDim == b.ContextDim && a.LearnedNullContext == b.LearnedNullContext;
}
