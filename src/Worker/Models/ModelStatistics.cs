using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Models;

/// <summary>Model size and cost as the paper reports them (parameters; MACs in the ptflops convention).</summary>
public static class ModelStatistics
{
    /// <summary>The number of parameters of the instantiated module (trainable or not; buffers excluded).</summary>
    public static long CountParameters(nn.Module module) => module.parameters().Sum(p => p.numel());

    /// <summary>Parameters of the conditioning embeddings a UNet carries here but CompVis keeps outside it: the class
    /// embedder (<c>context_emb</c>, CompVis <c>cond_stage_model.embedding</c>) and a learned null context. The paper's
    /// parameter counts leave them out.</summary>
    public static long CountConditioningEmbeddingParameters(UNetModel model) =>
        model.named_parameters().Where(p => p.name is "context_emb.weight" or "null_context").Sum(p => p.parameter.numel());

    /// <summary>Conv and linear multiply-adds (with bias adds) of one forward pass at batch 1 and height×width, the
    /// ptflops convention of the paper; attention matmuls and the fixed Haar filters are not counted. Computed by a
    /// shape walk over the instantiated blocks, without running the forward pass.</summary>
    public static long CountMacs(UNetModel model, int height, int width)
    {
        var divisor = 1 << (model.Config.ChannelMult.Length - 1);
        if (height <= 0 || width <= 0 || height % divisor != 0 || width % divisor != 0)
            throw new ArgumentException($"height and width must be positive multiples of {divisor}; got {height}×{width}", nameof(height));
        return model.CountMacs(height, width);
    }
}
