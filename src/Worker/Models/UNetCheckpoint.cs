using System.Text.Json;
using System.Text.Json.Serialization;

namespace SpectralDiffusion.Worker.Models;

/// <summary>
/// Our own model format: the UNet state dict as safetensors whose <c>__metadata__</c> names the format, the preset and
/// the full <see cref="UNetConfig"/> as JSON, so a file alone rebuilds its model.
/// </summary>
public static class UNetCheckpoint
{
    public const string FormatName = "spectral-diffusion-unet";
    const string FormatKey = "format", PresetKey = "preset", ConfigKey = "config";
    static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    /// <summary>Writes the model (atomically: temp file then rename).</summary>
    public static void Save(UNetModel model, string path, string? preset = null)
    {
        var metadata = new Dictionary<string, string>
        {
            [FormatKey] = FormatName,
            [PresetKey] = preset ?? "",
            [ConfigKey] = JsonSerializer.Serialize(model.Config, Json),
        };
        SafetensorsFile.Write(path, model.state_dict(), metadata);
    }

    /// <summary>The preset name (empty when none) and config recorded in the file.</summary>
    public static (string Preset, UNetConfig Config) ReadHeader(string path)
    {
        var metadata = SafetensorsFile.ReadMetadata(path);
        if (!metadata.TryGetValue(FormatKey, out var format) || format != FormatName || !metadata.TryGetValue(ConfigKey, out var configJson))
            throw new CheckpointFormatException(path, $"is not a {FormatName} checkpoint (no '{FormatKey}: {FormatName}' metadata); convert it with `worker checkpoint convert --preset NAME`");
        try
        {
            var config = JsonSerializer.Deserialize<UNetConfig>(configJson, Json) ?? throw new JsonException("null config");
            return (metadata.GetValueOrDefault(PresetKey, ""), config);
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"its config metadata is not a valid UNetConfig ({e.Message})", e);
        }
    }

    /// <summary>Rebuilds the recorded model and loads its weights strictly.</summary>
    public static UNetModel Load(string path)
    {
        var (_, config) = ReadHeader(path);
        var model = new UNetModel(config);
        try
        {
            StateDictLoader.Load(model, SafetensorsFile.Read(path).Tensors, path);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Whether the file is our format, judged by its content (artifact caches name files by hash, without an extension).</summary>
    public static bool IsOurFormat(string path)
    {
        try { return SafetensorsFile.ReadMetadata(path).GetValueOrDefault(FormatKey) == FormatName; }
        catch (CheckpointFormatException) { return false; }
    }

    /// <summary>Loads any supported checkpoint: ours (config from the file), or CompVis with the <paramref name="preset"/> it was trained as.</summary>
    public static UNetModel LoadAny(string path, string? preset = null, bool ema = false)
    {
        CheckpointFormatException.RequireFile(path);
        var isOurs = IsOurFormat(path);
        if (isOurs && preset is null && !ema) return Load(path);
        var config = preset is not null ? UNetPresets.Get(preset)
            : isOurs ? ReadHeader(path).Config
            : throw new ArgumentException($"{path} is a CompVis checkpoint without a recorded config: name its architecture with --preset ({string.Join(", ", UNetPresets.Names)})", nameof(preset));
        var model = new UNetModel(config);
        try
        {
            CompVisCheckpoint.LoadInto(model, path, ema);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
