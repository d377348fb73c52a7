using SpectralDiffusion.Worker.Cli;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.FirstStage;

public sealed class AutoencoderCommandTests
{
    public AutoencoderCommandTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void EncodeThenDecode_FullLdmFile_WritesZThenXMatchingTheModel()
    {
        // Arrange: a full LDM file (first stage + UNet) and an image batch under tensor 'x'.
        using var folder = new TemporaryFolder();
        manual_seed(5);
        using var model = new Autoencoder(AutoencoderPresets.TinyKl());
        using var unet = new UNetModel(UNetPresets.TinyLiteLdm());
        var ldm = CompVisCheckpoint.ToCompVisNames(unet);
        foreach (var (key, value) in model.state_dict()) ldm[FirstStageCheckpoint.LdmPrefix + key] = value;
        SafetensorsFile.Write(folder.Combine("ldm.safetensors"), ldm);
        var x = rand(2, 3, 16, 16) * 2 - 1;
        SafetensorsFile.Write(folder.Combine("x.safetensors"), new Dictionary<string, Tensor> { ["x"] = x });

        // Act
        var encode = WorkerCli.Build().Parse(["autoencoder", "encode", "--checkpoint", folder.Combine("ldm.safetensors"), "--config", "tiny-kl",
            "--input", folder.Combine("x.safetensors"), "--out", folder.Combine("z.safetensors")]).Invoke();
        var decode = WorkerCli.Build().Parse(["autoencoder", "decode", "--checkpoint", folder.Combine("ldm.safetensors"), "--config", "tiny-kl",
            "--input", folder.Combine("z.safetensors"), "--out", folder.Combine("decoded.safetensors")]).Invoke();

        // Assert
        Assert.Equal(0, encode);
        Assert.Equal(0, decode);
        var z = SafetensorsFile.Read(folder.Combine("z.safetensors")).Tensors["z"];
        var decoded = SafetensorsFile.Read(folder.Combine("decoded.safetensors")).Tensors["x"];
        using var _ = no_grad();
        Assert.True(z.allclose(model.Encode(x), rtol: 1e-5, atol: 1e-6));
        Assert.True(decoded.allclose(model.Decode(z), rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Encode_InputWithoutTensorX_FailsNamingFileAndTensor()
    {
        using var folder = new TemporaryFolder();
        using var model = new Autoencoder(AutoencoderPresets.TinyKl());
        FirstStageCheckpoint.Save(model, folder.Combine("ae.safetensors"), "tiny-kl");
        SafetensorsFile.Write(folder.Combine("images.safetensors"), new Dictionary<string, Tensor> { ["images"] = zeros(1, 3, 8, 8) });

        var (exitCode, error) = WorkerCliRun.Invoke("autoencoder", "encode", "--checkpoint", folder.Combine("ae.safetensors"), "--config", "tiny-kl",
            "--input", folder.Combine("images.safetensors"), "--out", folder.Combine("z.safetensors"));

        Assert.Equal(2, exitCode);
        Assert.Contains("has no tensor 'x'", error);
        Assert.Contains("images.safetensors", error);
        Assert.False(File.Exists(folder.Combine("z.safetensors")));
    }
}
