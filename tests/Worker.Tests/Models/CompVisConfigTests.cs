using System.Text.Json;
using SpectralDiffusion.Worker.Cli;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Recipes;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Worker.Tests.Models;

/// <summary>
/// CompVis's own config files (Fixtures/compvis) resolve to their schedule, scale factor, first stage and conditioning,
/// and to a UNet with the parameter count CompVis's UNetModel has for their unet_config (Models/py/compvis_unet_reference.py
/// builds that module tree in PyTorch). The counts come from models built on the meta device, so the tests share the
/// process-wide default device: they run alone.
/// </summary>
[Collection(TorchThreadsCollection.Name)]
public class CompVisConfigTests
{
    public CompVisConfigTests() => TorchRuntime.EnsureLoaded();

    static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "compvis", name);

    [Theory]
    [InlineData("ffhq-ldm-vq-4.yaml", 0.0015, 0.0195, 1.0, "vq-f4")]
    [InlineData("celebahq-ldm-vq-4.yaml", 0.0015, 0.0195, 1.0, "vq-f4")]
    [InlineData("lsun_bedrooms-ldm-vq-4.yaml", 0.0015, 0.0195, 1.0, "vq-f4")]
    [InlineData("lsun_churches-ldm-kl-8.yaml", 0.0015, 0.0155, null, "kl-f8")]
    [InlineData("cin256-v2.yaml", 0.0015, 0.0195, 1.0, "vq-f4")]
    [InlineData("cin-ldm-vq-f8.yaml", 0.0015, 0.0195, 1.0, "vq-f8")]
    [InlineData("txt2img-1p4B-eval.yaml", 0.00085, 0.012, 0.18215, "kl-f8")]
    [InlineData("v1-inference.yaml", 0.00085, 0.012, 0.18215, "kl-f8")]
    public void Load_CompVisConfig_GivesItsScheduleScaleFactorAndFirstStage(string file, double start, double end, double? scaleFactor, string firstStage)
    {
        var recipe = CompVisConfig.Load(Fixture(file));

        Assert.Equal(start, recipe.Schedule.LinearStart);
        Assert.Equal(end, recipe.Schedule.LinearEnd);
        Assert.Equal(1000, recipe.Schedule.Timesteps);
        Assert.Equal(scaleFactor, recipe.ScaleFactor);
        Assert.Equal(scaleFactor is null, recipe.ScaleByStd);
        Assert.Equal(firstStage, recipe.FirstStageName);
    }

    [PythonTorchTheory]
    [InlineData("ffhq-ldm-vq-4.yaml")]
    [InlineData("lsun_churches-ldm-kl-8.yaml")]
    [InlineData("cin256-v2.yaml")]
    [InlineData("cin-ldm-vq-f8.yaml")]
    [InlineData("txt2img-1p4B-eval.yaml")]
    [InlineData("v1-inference.yaml")]
    public void Summarize_CompVisConfig_MatchesCompVisUNetParameterCount(string file)
    {
        var reference = CompVisReference(Fixture(file));

        var summary = ConfigCommand.Summarize(CompVisConfig.Load(Fixture(file)));

        Assert.Equal(reference.Parameters, summary.UNetParametersWithoutEmbeddings);
    }

    [PythonTorchFact]
    public void Measure_StableDiffusionV1Presets_MatchCompVisAtFullAndStudentWidth()
    {
        var teacher = CompVisReference(Fixture("v1-inference.yaml"));
        var lite = CompVisReference(Fixture("v1-inference.yaml"), "model_channels=96");

        Assert.Equal(teacher.Parameters, ShapeOnlyModels.Measure(UNetPresets.Get("sd-v1")).Parameters);
        Assert.Equal(lite.Parameters, ShapeOnlyModels.Measure(UNetPresets.Get("sd-v1-lite")).Parameters);
    }

    [Fact]
    public void Measure_StableDiffusionV1Student_HasThePapersTextStudentSize()
    {
        var parameters = ShapeOnlyModels.Measure(UNetPresets.Get("sd-v1-sd")).Parameters;

        Assert.InRange(parameters, 77.31e6, 77.51e6);   // the paper's text SD: 77.41M ± 0.1M with a 768-wide (CLIP) context
    }

    [Theory]
    [InlineData("ldm-ffhq", "ffhq-ldm-vq-4.yaml")]
    [InlineData("ldm-celebahq", "celebahq-ldm-vq-4.yaml")]
    [InlineData("ldm-churches", "lsun_churches-ldm-kl-8.yaml")]
    [InlineData("cin-ldm", "cin256-v2.yaml")]
    [InlineData("cin-f8-ldm", "cin-ldm-vq-f8.yaml")]
    [InlineData("txt2img-ldm", "txt2img-1p4B-eval.yaml")]
    [InlineData("sd-v1", "v1-inference.yaml")]
    public void ForPreset_TeacherPreset_IsItsCompVisConfig(string preset, string file)
    {
        var config = CompVisConfig.Load(Fixture(file));

        var recipe = ModelRecipe.ForPreset(preset);

        Assert.Equal(JsonSerializer.Serialize(config.UNet), JsonSerializer.Serialize(recipe.UNet));
        Assert.Equal(config.Schedule, recipe.Schedule);
        Assert.Equal((config.ScaleFactor, config.ScaleByStd, config.FirstStageName, config.LossType),
            (recipe.ScaleFactor, recipe.ScaleByStd, recipe.FirstStageName, recipe.LossType));
    }

    [Fact]
    public void Load_CinConfigs_GiveTheirClassEmbedderRows()
    {
        var cin256 = CompVisConfig.Load(Fixture("cin256-v2.yaml")).UNet;
        var cinF8 = CompVisConfig.Load(Fixture("cin-ldm-vq-f8.yaml")).UNet;

        Assert.Equal(1001, cin256.ClassEmbeddingRows);
        Assert.Equal(1000, cinF8.ClassEmbeddingRows);
        Assert.Equal(UNetPresets.Get("cin-f8-ldm").ClassEmbeddingRows, cinF8.ClassEmbeddingRows);
    }

    [Theory]
    [InlineData("    use_ema: False\n", "    use_ema: False\n    parameterization: v\n", "model.params.parameterization")]
    [InlineData("conditioning_key: crossattn", "conditioning_key: hybrid", "model.params.conditioning_key")]
    [InlineData("    use_ema: False\n", "    use_ema: False\n    personalization_config:\n      target: ldm.modules.embedding_manager.EmbeddingManager\n", "model.params.personalization_config")]
    [InlineData("ldm.models.autoencoder.AutoencoderKL", "ldm.models.autoencoder.IdentityFirstStage", "model.params.first_stage_config.target")]
    [InlineData("use_spatial_transformer: True", "use_spatial_transformer: True\n        use_linear_in_transformer: True", "model.params.unet_config.params.use_linear_in_transformer")]
    public void Parse_UnsupportedKeyOrTarget_IsAnErrorNamingTheKey(string original, string edited, string key)
    {
        var yaml = File.ReadAllText(Fixture("v1-inference.yaml"));
        Assert.Contains(original, yaml);

        var error = Assert.Throws<CompVisConfigException>(() => CompVisConfig.Parse(yaml.Replace(original, edited), "edited.yaml"));

        Assert.Equal(key, error.Key);
        Assert.Contains(key, error.Message);
    }

    [PythonTorchTheory]
    [InlineData("v1-inference.yaml", "sd-v1")]
    [InlineData("cin-ldm-vq-f8.yaml", "cin-f8-ldm")]
    public void Load_OfficialLayoutAtReducedWidth_LoadsStrictlyIntoThePreset(string file, string preset)
    {
        // CompVis's key and shape list for this config at width 32 (same structure, a sliver of the memory), plus its
        // ClassEmbedder with the rows the config gives it.
        var recipe = CompVisConfig.Load(Fixture(file));
        var layout = CompVisReference(Fixture(file), "model_channels=32").Shapes.ToDictionary(s => CompVisCheckpoint.UNetPrefix + s.Key, s => s.Value);
        if (recipe.Conditioning.Kind == ConditioningKind.Class)
            layout[CompVisCheckpoint.ClassEmbedderKey] = [recipe.Conditioning.Classes!.Value, recipe.Conditioning.ContextDim!.Value];
        var raw = layout.Select((l, i) => (l.Key, Tensor: TorchSharp.torch.full(1, (float)(i % 97) / 97).expand(l.Value))).ToDictionary(l => l.Key, l => l.Tensor);
        using var model = new UNetModel(UNetPresets.Get(preset) with { ModelChannels = 32 });

        StateDictLoader.Load(model, CompVisCheckpoint.UNetStateDict(raw, file, model.state_dict().Keys), file, strict: true);

        Assert.Equal(layout.Keys.Order(), CompVisCheckpoint.ToCompVisNames(model).Keys.Order());
    }

    sealed record Reference(long Parameters, Dictionary<string, long[]> Shapes);

    static Reference CompVisReference(string config, params string[] overrides)
    {
        var output = PythonTorch.Run(PythonTorch.Script(Path.Combine("Models", "py", "compvis_unet_reference.py")), [config, .. overrides]);
        using var json = JsonDocument.Parse(output);
        var shapes = json.RootElement.GetProperty("shapes").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(d => d.GetInt64()).ToArray());
        return new Reference(json.RootElement.GetProperty("parameters").GetInt64(), shapes);
    }
}
