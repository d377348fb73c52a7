namespace SpectralDiffusion.Worker.FirstStage;

/// <summary>
/// The named first stages: CompVis's <c>vq-f4</c>, <c>vq-f8</c>, <c>kl-f4</c> and <c>kl-f8</c>
/// (<c>models/first_stage_models/*/config.yaml</c>), and <c>tiny-kl</c> (f2, 3 latent channels) for CPU tests and the demo.
/// </summary>
public static class AutoencoderPresets
{
    /// <summary>VQ-f4: 64×64×3 latents from 256² images, 8192 codes; 55,322,782 params.</summary>
    public static AutoencoderConfig VqF4() => new()
    {
        Kind = AutoencoderKind.Vq, Channels = 128, ChannelMult = [1, 2, 4], NumResBlocks = 2, ZChannels = 3, EmbedDim = 3, CodebookSize = 8192,
    };

    /// <summary>VQ-f8: 32×32×4 latents, 16384 codes, attention at 32².</summary>
    public static AutoencoderConfig VqF8() => new()
    {
        Kind = AutoencoderKind.Vq, Channels = 128, ChannelMult = [1, 2, 2, 4], NumResBlocks = 2, AttentionResolutions = [32],
        ZChannels = 4, EmbedDim = 4, CodebookSize = 16384,
    };

    /// <summary>KL-f8: 32×32×4 latents (LSUN-churches); 83,653,863 params.</summary>
    public static AutoencoderConfig KlF8() => new()
    {
        Kind = AutoencoderKind.Kl, Channels = 128, ChannelMult = [1, 2, 4, 4], NumResBlocks = 2, ZChannels = 4, EmbedDim = 4,
    };

    /// <summary>KL-f4: 64×64×3 latents.</summary>
    public static AutoencoderConfig KlF4() => new()
    {
        Kind = AutoencoderKind.Kl, Channels = 128, ChannelMult = [1, 2, 4], NumResBlocks = 2, ZChannels = 3, EmbedDim = 3,
    };

    /// <summary>Tiny KL (f2, 3 latent channels, ≈0.5M params): 32×32 images become 16×16×3 latents on 2 CPU cores.</summary>
    public static AutoencoderConfig TinyKl() => new()
    {
        Kind = AutoencoderKind.Kl, Channels = 32, ChannelMult = [1, 2], NumResBlocks = 1, ZChannels = 3, EmbedDim = 3, Resolution = 32,
    };

    static readonly (string Name, Func<AutoencoderConfig> Create)[] All =
        [("vq-f4", VqF4), ("vq-f8", VqF8), ("kl-f8", KlF8), ("kl-f4", KlF4), ("tiny-kl", TinyKl)];

    public static IReadOnlyList<string> Names { get; } = All.Select(p => p.Name).ToArray();

    /// <summary>The name of the preset with the same architecture as <paramref name="config"/>, or null.</summary>
    public static string? NameOf(AutoencoderConfig config) =>
        All.Select(p => (p.Name, Config: p.Create())).FirstOrDefault(p => SameArchitecture(p.Config, config)).Name;

    static bool SameArchitecture(AutoencoderConfig a, AutoencoderConfig b) =>
        a.Kind == b.Kind && a.Channels == b.Channels && a.ChannelMult.SequenceEqual(b.ChannelMult) && a.NumResBlocks == b.NumResBlocks
        && a.AttentionResolutions.SequenceEqual(b.AttentionResolutions) && a.ZChannels == b.ZChannels && a.EmbedDim == b.EmbedDim
        && a.CodebookSize == b.CodebookSize && a.InChannels == b.InChannels && a.OutChannels == b.OutChannels && a.NormGroups == b.NormGroups
        && (a.AttentionResolutions.Length == 0 || a.Resolution == b.Resolution);

    /// <summary>The config of that name; an <see cref="ArgumentException"/> listing the known names otherwise.</summary>
    public static AutoencoderConfig Get(string name)
    {
        foreach (var (configName, create) in All)
            if (configName == name) return create();
        throw new ArgumentException($"unknown first-stage config '{name}'; known configs: {string.Join(", ", Names)}", nameof(name));
    }
}
