using SpectralDiffusion.Worker.Models;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.FirstStage;

/// <summary>
/// Reads first-stage weights from either file CompVis publishes:
/// <list type="bullet">
/// <item>a standalone first stage (<c>models/first_stage_models/*/model.ckpt</c>): <c>encoder.*</c>, <c>decoder.*</c>,
/// <c>quant_conv.*</c>, <c>post_quant_conv.*</c>, <c>quantize.*</c> for VQ, and the training losses under <c>loss.*</c>
/// (discriminator, LPIPS), which are ignored and counted;</item>
/// <item>a full LDM Lightning checkpoint: the same under <c>first_stage_model.</c>, beside <c>model.diffusion_model.*</c>,
/// <c>model_ema.*</c> and (with scale_by_std) a <c>scale_factor</c> tensor.</item>
/// </list>
/// Loading is strict: a config that does not fit the keys lists the missing, unexpected and wrongly-shaped ones.
/// Our own standalone files are safetensors under the same names with the config name and scale factor in the metadata.
/// </summary>
public static class FirstStageCheckpoint
{
    public const string LdmPrefix = "first_stage_model.";
    public const string LossPrefix = "loss.";
    public const string ScaleFactorKey = "scale_factor";
    public const string FormatName = "spectral-diffusion-first-stage";
    const string FormatKey = "format", ConfigKey = "config";

    /// <summary>What a checkpoint held besides the first stage's own weights.</summary>
    public sealed record Contents(Dictionary<string, Tensor> Weights, int IgnoredLossTensors, double? ScaleFactor, string? ConfigName, bool IsFullLdm);

    /// <summary>The first stage's tensors under the module's own names (prefix stripped, <c>loss.*</c> left out).</summary>
    public static Contents Read(string path)
    {
        var raw = CompVisCheckpoint.ReadRaw(path);
        double? scaleFactor = raw.TryGetValue(ScaleFactorKey, out var scale) ? scale.to_type(ScalarType.Float64).item<double>() : null;
        string? configName = null;
        if (Path.GetExtension(path).Equals(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            var metadata = SafetensorsFile.ReadMetadata(path);
            if (metadata.GetValueOrDefault(FormatKey) == FormatName)
            {
                configName = metadata.GetValueOrDefault(ConfigKey);
                if (metadata.TryGetValue(ScaleFactorKey, out var text) && double.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var value))
                    scaleFactor = value;
            }
        }
        if (raw.Keys.Any(k => k.StartsWith(LdmPrefix, StringComparison.Ordinal)))
        {
            var weights = raw.Where(r => r.Key.StartsWith(LdmPrefix, StringComparison.Ordinal))
                             .ToDictionary(r => r.Key[LdmPrefix.Length..], r => r.Value);
            return new Contents(weights, 0, scaleFactor, configName, IsFullLdm: true);
        }
        if (raw.Keys.Any(k => k.StartsWith(CompVisCheckpoint.UNetPrefix, StringComparison.Ordinal) || k.StartsWith("model_ema.", StringComparison.Ordinal)))
            throw new CheckpointFormatException(path, $"is an LDM checkpoint without a first stage (no '{LdmPrefix}*' keys); name the first stage's own checkpoint in first_stage.checkpoint");
        var ignored = raw.Keys.Count(k => k.StartsWith(LossPrefix, StringComparison.Ordinal));
        var own = raw.Where(r => !r.Key.StartsWith(LossPrefix, StringComparison.Ordinal) && r.Key != ScaleFactorKey).ToDictionary(r => r.Key, r => r.Value);
        return new Contents(own, ignored, scaleFactor, configName, IsFullLdm: false);
    }

    /// <summary>Builds <paramref name="configName"/> and loads <paramref name="path"/> into it strictly.</summary>
    public static (Autoencoder Model, Contents Contents) Load(string path, string configName)
    {
        var config = AutoencoderPresets.Get(configName);
        var contents = Read(path);
        var model = new Autoencoder(config);
        try
        {
            StateDictLoader.Load(model, contents.Weights, $"{path} (first stage{(contents.IsFullLdm ? $" under '{LdmPrefix}'" : "")}, config '{configName}')");
            model.eval();
            return (model, contents);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>One line for the log: what was read and what was left out.</summary>
    public static string Describe(string path, string configName, Contents contents) =>
        $"first stage '{configName}' from {path}" +
        (contents.IsFullLdm ? $" ({LdmPrefix}* of a full LDM checkpoint)" : "") +
        (contents.IgnoredLossTensors > 0 ? $"; ignored {contents.IgnoredLossTensors} '{LossPrefix}*' tensors (training losses: discriminator, LPIPS)" : "") +
        (contents.ScaleFactor is double s ? $"; checkpoint scale factor {s:G6}" : "");

    /// <summary>Writes our standalone file: CompVis names, config name and scale factor in the metadata (atomic).</summary>
    public static void Save(Autoencoder model, string path, string configName, double? scaleFactor = null)
    {
        var metadata = new Dictionary<string, string> { [FormatKey] = FormatName, [ConfigKey] = configName };
        if (scaleFactor is double s) metadata[ScaleFactorKey] = s.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        SafetensorsFile.Write(path, model.state_dict(), metadata);
    }
}
