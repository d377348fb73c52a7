using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Models;

public sealed class CheckpointTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("sd-checkpoint-tests-").FullName;

    public CheckpointTests() => TorchRuntime.EnsureLoaded();

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void LoadInto_CompVisNamedSafetensors_RoundTripsThroughOurFormatWithIdenticalTensors()
    {
        manual_seed(8);
        using var source = new UNetModel(UNetPresets.TinyCinSd());
        var compVisPath = Path.Combine(directory, "compvis.safetensors");
        SafetensorsFile.Write(compVisPath, CompVisCheckpoint.ToCompVisNames(source));

        using var loaded = UNetCheckpoint.LoadAny(compVisPath, "tiny-cin-sd");
        var oursPath = Path.Combine(directory, "ours.safetensors");
        UNetCheckpoint.Save(loaded, oursPath, "tiny-cin-sd");
        using var reloaded = UNetCheckpoint.Load(oursPath);

        Assert.Equal("tiny-cin-sd", UNetCheckpoint.ReadHeader(oursPath).Preset);
        AssertSameTensors(source.state_dict(), reloaded.state_dict());
    }

    [Fact]
    public void LoadInto_OtherArchitecture_ListsMissingAndUnexpectedKeys()
    {
        using var student = new UNetModel(UNetPresets.TinySd());
        var path = Path.Combine(directory, "student.safetensors");
        SafetensorsFile.Write(path, CompVisCheckpoint.ToCompVisNames(student));
        using var lite = new UNetModel(UNetPresets.TinyLiteLdm());

        var error = Assert.Throws<StateDictMismatchException>(() => CompVisCheckpoint.LoadInto(lite, path));

        Assert.Contains("input_blocks.3.0.op.weight", error.Missing);
        Assert.Contains("input_blocks.3.0.gate.reduce.weight", error.Unexpected);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void LoadInto_WrongWidth_ListsWronglyShapedKeys()
    {
        using var teacher = new UNetModel(UNetPresets.TinyLdm());
        var path = Path.Combine(directory, "teacher.safetensors");
        SafetensorsFile.Write(path, CompVisCheckpoint.ToCompVisNames(teacher));
        using var lite = new UNetModel(UNetPresets.TinyLiteLdm());

        var error = Assert.Throws<StateDictMismatchException>(() => CompVisCheckpoint.LoadInto(lite, path));

        Assert.Contains(error.WrongShape, k => k.StartsWith("time_embed.0.weight"));
    }

    [Fact]
    public void Load_TruncatedFile_ThrowsNamingFile()
    {
        using var model = new UNetModel(UNetPresets.TinyLiteLdm());
        var path = Path.Combine(directory, "truncated.safetensors");
        UNetCheckpoint.Save(model, path, "tiny-lite-ldm");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var error = Assert.Throws<CheckpointFormatException>(() => UNetCheckpoint.Load(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void LoadAny_MissingFileOrGarbageCkpt_ThrowsNamingFile()
    {
        var missing = Path.Combine(directory, "absent.ckpt");
        var garbage = Path.Combine(directory, "garbage.ckpt");
        File.WriteAllText(garbage, "not a zip");

        Assert.Contains("file not found", Assert.Throws<CheckpointFormatException>(() => UNetCheckpoint.LoadAny(missing, "tiny-ldm")).Message);
        Assert.Contains(garbage, Assert.Throws<CheckpointFormatException>(() => UNetCheckpoint.LoadAny(garbage, "tiny-ldm")).Message);
    }

    [PythonTorchFact]
    public void LoadInto_LightningCkptWrittenByPyTorch_LoadsModelAndEmaStrictly()
    {
        manual_seed(9);
        using var source = new UNetModel(UNetPresets.TinySd());
        var flatPath = Path.Combine(directory, "flat.pth");
        var ckptPath = Path.Combine(directory, "last.ckpt");
        PyTorchPickler.PickleStateDict(flatPath, CompVisCheckpoint.ToCompVisNames(source).ToDictionary(p => p.Key, p => p.Value));
        // A Lightning-style checkpoint as CompVis writes it: state_dict with the UNet and the LitEma copy (names without dots, halved here).
        var script = $$"""
            import torch
            flat = torch.load(r"{{flatPath}}")
            state = dict(flat)
            for key, value in flat.items():
                state["model_ema.diffusion_model" + key[len("model.diffusion_model."):].replace(".", "")] = value * 0.5
            state["model_ema.decay"] = torch.tensor(0.9999)
            state["model_ema.num_updates"] = torch.tensor(10, dtype=torch.int)
            torch.save({"epoch": 3, "global_step": 10, "state_dict": state}, r"{{ckptPath}}")
            """;
        PythonTorch.RunInline(script);

        using var model = new UNetModel(UNetPresets.TinySd());
        CompVisCheckpoint.LoadInto(model, ckptPath);
        using var ema = new UNetModel(UNetPresets.TinySd());
        CompVisCheckpoint.LoadInto(ema, ckptPath, ema: true);

        AssertSameTensors(source.state_dict(), model.state_dict());
        var key = "output_blocks.2.2.gate.expand.weight";
        Assert.True((ema.state_dict()[key] * 2).equal(source.state_dict()[key]).all().item<bool>());
    }

    static void AssertSameTensors(IDictionary<string, Tensor> expected, IDictionary<string, Tensor> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, tensor) in expected) Assert.True(tensor.shape.SequenceEqual(actual[key].shape) && tensor.equal(actual[key]).all().item<bool>(), $"{key} differs");
    }
}
