using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Models;

/// <summary>Parameter and MAC counts of a config, from a model built on the meta device: shapes only, no memory for the
/// weights, so the 859M-parameter Stable Diffusion UNet is counted in a moment.</summary>
public static class ShapeOnlyModels
{
    /// <summary>Parameters (all, and without the conditioning embeddings the paper leaves out) and MACs at the config's image size.</summary>
    public static (long Parameters, long ParametersWithoutEmbeddings, long Macs) Measure(UNetConfig config) => OnMeta(() =>
    {
        using var model = new UNetModel(config);
        var all = ModelStatistics.CountParameters(model);
        return (all, all - ModelStatistics.CountConditioningEmbeddingParameters(model), ModelStatistics.CountMacs(model, config.ImageSize, config.ImageSize));
    });

    /// <summary>Runs <paramref name="build"/> with the meta device as the default, so modules built in it hold shapes only.
    /// The default device is process-wide: callers must not build real tensors on other threads meanwhile.</summary>
    public static T OnMeta<T>(Func<T> build)
    {
        var previous = get_default_device();
        set_default_device(META);
        try { return build(); }
        finally { set_default_device(previous); }
    }
}
