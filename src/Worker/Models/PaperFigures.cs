namespace SpectralDiffusion.Worker.Models;

/// <summary>The sizes the paper reports for a preset (Table 2: FFHQ and CelebA-HQ; Table 3: class-conditional ImageNet,
/// counted without the class embedder; the text-to-image SD student's 77.6M).</summary>
public static class PaperFigures
{
    static readonly Dictionary<string, (double? Params, double? Macs)> Figures = new()
    {
        ["ldm-ffhq"] = (274.1e6, 96.1e9), ["lite-ldm-ffhq"] = (22.4e6, 7.9e9), ["sd-ffhq"] = (21.1e6, 6.7e9),
        ["ldm-celebahq"] = (274.1e6, 96.1e9), ["lite-ldm-celebahq"] = (22.4e6, 7.9e9), ["sd-celebahq"] = (21.1e6, 6.7e9),
        ["cin-ldm"] = (400.9e6, 99.8e9), ["cin-lite-ldm"] = (47.0e6, 11.1e9), ["cin-sd"] = (45.4e6, 9.9e9),
        ["txt2img-sd"] = (77.6e6, null), ["sd-v1-sd"] = (77.6e6, null),
    };

    /// <summary>The paper's parameter and MAC counts, null where it gives none.</summary>
    public static (double? Params, double? Macs) For(string preset) => Figures.GetValueOrDefault(preset);
}

/// <summary>
/// One preset's measured size next to the paper's (MACs at the preset's own latent size, batch 1). <see cref="Params"/> is
/// the UNet without its conditioning embeddings (the CompVis class embedder, which lives outside the UNet there, and a
/// learned null context): the convention of the paper's tables. <see cref="ParamsWithEmbeddings"/> counts everything.
/// </summary>
public sealed record ModelSummary(string Preset, long Params, long ParamsWithEmbeddings, long Macs, int ImageSize, int InChannels, double? PaperParams, double? PaperMacs)
{
    /// <summary>What the paper's parameter counts leave out: the class embedder (Table 3 counts the UNet alone).</summary>
    public const string PaperConvention = "the paper counts the UNet without the class embedder (cond_stage_model) and without any null context";

    public double? ParamsRatio => PaperParams is double paper ? Params / paper : null;
    public double? MacsRatio => PaperMacs is double paper ? Macs / paper : null;

    /// <summary>Builds the preset on the meta device (shapes only) and measures it.</summary>
    public static ModelSummary Measure(string preset)
    {
        var config = UNetPresets.Get(preset);
        var (all, withoutEmbeddings, macs) = ShapeOnlyModels.Measure(config);
        var (paperParams, paperMacs) = PaperFigures.For(preset);
        return new ModelSummary(preset, withoutEmbeddings, all, macs, config.ImageSize, config.InChannels, paperParams, paperMacs);
    }
}
