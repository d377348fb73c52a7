using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.FirstStage;

public sealed class FirstStageCheckpointTests
{
    public FirstStageCheckpointTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Load_StandaloneWithLossTensors_LoadsStrictlyAndCountsIgnoredLoss()
    {
        // Arrange: keys as in models/first_stage_models/kl-f*/model.ckpt, discriminator and LPIPS under loss.*.
        using var folder = new TemporaryFolder();
        manual_seed(3);
        using var source = new Autoencoder(AutoencoderPresets.TinyKl());
        var tensors = source.state_dict().ToDictionary(p => p.Key, p => p.Value);
        tensors["loss.logvar"] = zeros(1);
        tensors["loss.discriminator.main.0.weight"] = randn(64, 3, 4, 4);
        tensors["loss.perceptual_loss.lin0.model.1.weight"] = randn(1, 64, 1, 1);
        var path = folder.Combine("model.safetensors");
        SafetensorsFile.Write(path, tensors);

        // Act
        var (model, contents) = FirstStageCheckpoint.Load(path, "tiny-kl");
        using var _ = model;

        // Assert
        Assert.Equal(3, contents.IgnoredLossTensors);
        Assert.False(contents.IsFullLdm);
        Assert.Contains("ignored 3 'loss.*' tensors", FirstStageCheckpoint.Describe(path, "tiny-kl", contents));
        AssertSameTensors(source.state_dict(), model.state_dict());
    }

    [Fact]
    public void Load_ConfigNotMatchingKeys_ListsMissingUnexpectedAndWronglyShapedKeys()
    {
        using var folder = new TemporaryFolder();
        using var klF4 = new Autoencoder(AutoencoderPresets.KlF4() with { Channels = 32 });
        var path = folder.Combine("kl-f4.safetensors");
        SafetensorsFile.Write(path, klF4.state_dict());

        var error = Assert.Throws<StateDictMismatchException>(() => FirstStageCheckpoint.Load(path, "vq-f4"));

        Assert.Contains("quantize.embedding.weight", error.Missing);
        Assert.Contains(error.WrongShape, k => k.StartsWith("encoder.conv_out.weight", StringComparison.Ordinal));
        Assert.Contains(path, error.Message);
        Assert.Contains("config 'vq-f4'", error.Message);
    }

    [Fact]
    public void Load_StandaloneWithForeignKey_ListsItAsUnexpected()
    {
        using var folder = new TemporaryFolder();
        using var model = new Autoencoder(AutoencoderPresets.TinyKl());
        var tensors = model.state_dict().ToDictionary(p => p.Key, p => p.Value);
        tensors["encoder.down.0.block.0.temb_proj.weight"] = zeros(32, 512);
        var path = folder.Combine("extra.safetensors");
        SafetensorsFile.Write(path, tensors);

        var error = Assert.Throws<StateDictMismatchException>(() => FirstStageCheckpoint.Load(path, "tiny-kl"));

        Assert.Equal(["encoder.down.0.block.0.temb_proj.weight"], error.Unexpected);
    }

    [Fact]
    public void Load_LdmCheckpointWithoutFirstStage_NamesTheMissingPrefix()
    {
        using var folder = new TemporaryFolder();
        using var unet = new UNetModel(UNetPresets.TinyLiteLdm());
        var path = folder.Combine("ldm.safetensors");
        SafetensorsFile.Write(path, CompVisCheckpoint.ToCompVisNames(unet));

        var error = Assert.Throws<CheckpointFormatException>(() => FirstStageCheckpoint.Read(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("first_stage_model.*", error.Message);
    }

    [Fact]
    public void Save_OurFormat_RecordsConfigAndScaleFactor()
    {
        using var folder = new TemporaryFolder();
        using var model = new Autoencoder(AutoencoderPresets.TinyKl());
        var path = folder.Combine("ours.safetensors");

        FirstStageCheckpoint.Save(model, path, "tiny-kl", 0.5);
        var contents = FirstStageCheckpoint.Read(path);

        Assert.Equal("tiny-kl", contents.ConfigName);
        Assert.Equal(0.5, contents.ScaleFactor);
    }

    /// <summary>One Lightning .ckpt as CompVis writes it: first stage, UNet, its LitEma copy and the scale_factor buffer.</summary>
    [PythonTorchFact]
    public void Load_FullLdmLightningCheckpoint_LoadsFirstStageUNetAndEmaStrictly()
    {
        // Arrange
        using var folder = new TemporaryFolder();
        manual_seed(4);
        using var firstStage = new Autoencoder(AutoencoderPresets.TinyKl());
        using var unet = new UNetModel(UNetPresets.TinyLiteLdm());
        var flat = CompVisCheckpoint.ToCompVisNames(unet);
        foreach (var (key, value) in firstStage.state_dict()) flat[FirstStageCheckpoint.LdmPrefix + key] = value;
        var flatPath = folder.Combine("flat.pth");
        var ckptPath = folder.Combine("last.ckpt");
        PyTorchPickler.PickleStateDict(flatPath, flat);
        PythonTorch.RunInline($$"""
            import torch
            flat = torch.load(r"{{flatPath}}")
            state = dict(flat)
            for key, value in flat.items():
                if key.startswith("model.diffusion_model."):
                    state["model_ema.diffusion_model" + key[len("model.diffusion_model."):].replace(".", "")] = value * 0.5
            state["model_ema.decay"] = torch.tensor(0.9999)
            state["model_ema.num_updates"] = torch.tensor(10, dtype=torch.int)
            state["scale_factor"] = torch.tensor(0.18215)
            torch.save({"epoch": 1, "global_step": 10, "state_dict": state}, r"{{ckptPath}}")
            """);

        // Act
        var (loaded, contents) = FirstStageCheckpoint.Load(ckptPath, "tiny-kl");
        using var _ = loaded;
        using var loadedUNet = new UNetModel(UNetPresets.TinyLiteLdm());
        CompVisCheckpoint.LoadInto(loadedUNet, ckptPath);
        using var ema = new UNetModel(UNetPresets.TinyLiteLdm());
        CompVisCheckpoint.LoadInto(ema, ckptPath, ema: true);

        // Assert
        Assert.True(contents.IsFullLdm);
        Assert.Equal(0.18215, contents.ScaleFactor!.Value, 1e-6);
        AssertSameTensors(firstStage.state_dict(), loaded.state_dict());
        AssertSameTensors(unet.state_dict(), loadedUNet.state_dict());
        Assert.True((ema.state_dict()["out.2.weight"] * 2).allclose(unet.state_dict()["out.2.weight"]));
    }

    static void AssertSameTensors(IDictionary<string, Tensor> expected, IDictionary<string, Tensor> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, tensor) in expected) Assert.True(tensor.equal(actual[key]).all().item<bool>(), $"{key} differs");
    }
}
