namespace SpectralDiffusion.Shared.Jobs;

/// <summary>
/// The first-stage autoencoder configs a spec may name (<c>first_stage.config</c>) and what a spec must agree with
/// before any worker builds one: the image-to-latent factor f and the latent channels. The worker builds exactly these
/// (its <c>AutoencoderPresets</c>), and a worker test keeps the two equal.
/// </summary>
public static class KnownFirstStages
{
    static readonly (string Name, FirstStageShape Shape)[] Configs =
    [
        ("vq-f4", new(Factor: 4, LatentChannels: 3)), ("vq-f8", new(Factor: 8, LatentChannels: 4)),
        ("kl-f8", new(Factor: 8, LatentChannels: 4)), ("kl-f4", new(Factor: 4, LatentChannels: 3)),
        ("tiny-kl", new(Factor: 2, LatentChannels: 3)),
    ];

    public static IReadOnlyList<string> All { get; } = Configs.Select(c => c.Name).ToArray();

    public static bool Contains(string name) => Configs.Any(c => c.Name == name);

    /// <summary>The shape of a known config; <see cref="ArgumentException"/> for any other name.</summary>
    public static FirstStageShape Shape(string name) =>
        Configs.FirstOrDefault(c => c.Name == name).Shape ?? throw new ArgumentException($"unknown first-stage config '{Echo.Short(name)}'", nameof(name));
}

/// <summary>A first stage turns H×W images into (H/Factor)×(W/Factor) latents of <see cref="LatentChannels"/> channels.</summary>
public sealed record FirstStageShape(int Factor, int LatentChannels);
