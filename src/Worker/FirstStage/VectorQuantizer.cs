using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.FirstStage;

/// <summary>
/// taming's <c>VectorQuantizer2</c> at inference: every latent vector is replaced by its nearest codebook entry
/// (<c>embedding.weight</c>, n_embed × embed_dim), with distances ‖z‖² + ‖e‖² − 2 z·e as taming computes them.
/// </summary>
public sealed class VectorQuantizer : nn.Module<Tensor, Tensor>
{
    readonly Embedding embedding;

    public VectorQuantizer(long codebookSize, long embedDim) : base(nameof(VectorQuantizer))
    {
        embedding = nn.Embedding(codebookSize, embedDim);
        using (no_grad()) embedding.weight!.uniform_(-1.0 / codebookSize, 1.0 / codebookSize);
        RegisterComponents();
    }

    /// <summary>The codebook index of each position: (B, H, W).</summary>
    public Tensor Indices(Tensor z)
    {
        var (batch, channels, height, width) = (z.shape[0], z.shape[1], z.shape[2], z.shape[3]);
        var flat = z.permute(0, 2, 3, 1).reshape(-1, channels);
        var codebook = embedding.weight!;
        var distances = flat.pow(2).sum(1, keepdim: true) + codebook.pow(2).sum(1) - 2 * matmul(flat, codebook.t());
        return distances.argmin(1).reshape(batch, height, width);
    }

    /// <summary>z (B, C, H, W) snapped to the codebook.</summary>
    public override Tensor forward(Tensor z) => embedding.forward(Indices(z)).permute(0, 3, 1, 2).contiguous();
}
