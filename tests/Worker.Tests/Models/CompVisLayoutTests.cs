using System.Text.Json;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Models;

/// <summary>
/// State dicts shaped like the official cin256-v2 and txt2img-1p4B checkpoints load strictly. data/compvis-unet-keys.json
/// lists every key and shape of a PyTorch build of CompVis openaimodel.UNetModel with each config's arguments (plus
/// cin256-v2's cond_stage_model.embedding, the 1001×512 ClassEmbedder).
/// </summary>
public class CompVisLayoutTests
{
    public CompVisLayoutTests() => TorchRuntime.EnsureLoaded();

    static Dictionary<string, long[]> Layout(string checkpoint)
    {
        using var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Models", "data", "compvis-unet-keys.json")));
        return file.RootElement.GetProperty(checkpoint).EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(d => d.GetInt64()).ToArray());
    }

    /// <summary>A constant per tensor, broadcast (no memory for 400M parameters), so a strict load can be checked value by value.</summary>
    static Dictionary<string, float> Constants(Dictionary<string, long[]> layout) =>
        layout.Keys.Select((key, i) => (key, Value: (float)(i % 97) / 97)).ToDictionary(e => e.key, e => e.Value);

    [Theory]
    [InlineData("cin256-v2", "cin-ldm")]
    [InlineData("txt2img-1p4B", "txt2img-ldm")]
    public void Load_CompVisShapedStateDict_LoadsStrictlyUnderCompVisNames(string checkpoint, string preset)
    {
        var layout = Layout(checkpoint);
        var constants = Constants(layout);
        var raw = layout.ToDictionary(l => l.Key, l => full(1, constants[l.Key]).expand(l.Value));
        using var model = new UNetModel(UNetPresets.Get(preset));

        var mapped = CompVisCheckpoint.UNetStateDict(raw, checkpoint, model.state_dict().Keys);
        StateDictLoader.Load(model, mapped, checkpoint, strict: true);

        var names = CompVisCheckpoint.ToCompVisNames(model);
        Assert.Equal(layout.Keys.Order(), names.Keys.Order());
        foreach (var (key, value) in names)
            Assert.Equal(constants[key], value.view(-1)[0].item<float>());
    }
}
