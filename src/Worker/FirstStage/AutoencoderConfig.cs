namespace SpectralDiffusion.Worker.FirstStage;

/// <summary>Which first stage: taming's VQ model (nearest-codebook quantiser) or the KL autoencoder (diagonal Gaussian posterior).</summary>
public enum AutoencoderKind { Vq, Kl }

/// <summary>
/// A first-stage autoencoder as CompVis configures it (<c>models/first_stage_models/*/config.yaml</c>: <c>embed_dim</c>,
/// <c>n_embed</c> and <c>ddconfig</c>). The encoder's output has 2·z channels for KL (<c>double_z</c>), z for VQ.
/// </summary>
public sealed record AutoencoderConfig
{
    public required AutoencoderKind Kind { get; init; }
    /// <summary><c>ch</c>: the width of the first level.</summary>
    public required long Channels { get; init; }
    /// <summary><c>ch_mult</c>: one entry per resolution; the image shrinks by 2^(levels − 1).</summary>
    public required long[] ChannelMult { get; init; }
    public required int NumResBlocks { get; init; }
    /// <summary><c>attn_resolutions</c>: feature sizes (at <see cref="Resolution"/>) that get an AttnBlock after each ResnetBlock.</summary>
    public long[] AttentionResolutions { get; init; } = [];
    public required long ZChannels { get; init; }
    public required long EmbedDim { get; init; }
    /// <summary><c>n_embed</c>: codebook size (VQ only).</summary>
    public long CodebookSize { get; init; }
    /// <summary><c>resolution</c>: the training image size; it only places the attention layers.</summary>
    public long Resolution { get; init; } = 256;
    public long InChannels { get; init; } = 3;
    public long OutChannels { get; init; } = 3;
    /// <summary>GroupNorm groups (32 in CompVis; the tiny config uses fewer channels but keeps 32 where they divide).</summary>
    public int NormGroups { get; init; } = 32;

    /// <summary>The image-to-latent downsampling factor f.</summary>
    public long DownsamplingFactor => 1L << (ChannelMult.Length - 1);

    /// <summary>The latent's channel count (what the diffusion model sees).</summary>
    public long LatentChannels => EmbedDim;
}
