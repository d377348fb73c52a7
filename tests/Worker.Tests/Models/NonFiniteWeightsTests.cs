using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Agent;
using SpectralDiffusion.Worker.Evaluation;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Models;

/// <summary>Every weights input (model, teacher, first stage, Inception) is refused as it loads when a tensor holds a NaN
/// or an infinity: at once, as a permanent failure, naming the file and the first bad tensor.</summary>
public sealed class NonFiniteWeightsTests : IDisposable
{
    readonly TemporaryFolder folder = new();

    public NonFiniteWeightsTests() => TorchRuntime.EnsureLoaded();

    public void Dispose() => folder.Dispose();

    /// <summary>The module's tensors, with one element of <paramref name="poisoned"/> set to <paramref name="value"/>.</summary>
    static Dictionary<string, Tensor> Poisoned(nn.Module module, string poisoned, double value)
    {
        var tensors = module.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        using (no_grad()) tensors[poisoned].view(-1)[0].fill_(value);
        return tensors;
    }

    [Fact]
    public void LoadUNet_NaNInOneTensor_ThrowsNamingFileAndTensorAndIsPermanent()
    {
        manual_seed(1);
        using var model = new UNetModel(UNetPresets.TinySd());
        var path = folder.Combine("nan.safetensors");
        UNetCheckpoint.Save(model, path, "tiny-sd");
        var (tensors, metadata) = SafetensorsFile.Read(path);
        using (no_grad()) tensors["middle_block.1.proj_out.weight"].view(-1)[3].fill_(double.NaN);
        SafetensorsFile.Write(path, tensors, metadata);

        var error = Assert.Throws<NonFiniteWeightsException>(() => UNetCheckpoint.Load(path).Dispose());

        Assert.Contains(path, error.Message);
        Assert.Equal("middle_block.1.proj_out.weight", error.Tensor);
        Assert.Equal(FailureKind.Permanent, FailureClassifier.Classify(error));
    }

    [Fact]
    public void LoadCompVisTeacher_InfinityInOneTensor_Throws()
    {
        manual_seed(2);
        using var teacher = new UNetModel(UNetPresets.TinyLdm());
        var path = folder.Combine("teacher.safetensors");
        SafetensorsFile.Write(path, CompVisCheckpoint.ToCompVisNames(teacher).ToDictionary(
            p => p.Key, p => p.Key == "model.diffusion_model.out.2.bias" ? full_like(p.Value, double.PositiveInfinity) : p.Value));
        using var target = new UNetModel(UNetPresets.TinyLdm());

        var error = Assert.Throws<NonFiniteWeightsException>(() => CompVisCheckpoint.LoadInto(target, path));

        Assert.Equal("out.2.bias", error.Tensor);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void LoadFirstStage_NaNInDecoder_Throws()
    {
        manual_seed(3);
        using var autoencoder = new Autoencoder(AutoencoderPresets.TinyKl());
        var path = folder.Combine("first-stage.safetensors");
        SafetensorsFile.Write(path, Poisoned(autoencoder, "decoder.conv_out.weight", double.NaN));

        var error = Assert.Throws<NonFiniteWeightsException>(() => FirstStageCheckpoint.Load(path, "tiny-kl").Model.Dispose());

        Assert.Equal("decoder.conv_out.weight", error.Tensor);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void LoadInception_NaNInFc_Throws()
    {
        using var model = new FidInceptionV3();
        var state = Poisoned(model, "fc.bias", double.NaN).Where(p => !p.Key.EndsWith("num_batches_tracked")).ToDictionary(p => p.Key, p => p.Value);
        var path = folder.Combine("inception.safetensors");
        Safetensors.SaveStateDict(path, state);

        var error = Assert.Throws<NonFiniteWeightsException>(() => InceptionWeights.Load(path).Dispose());

        Assert.Equal("fc.bias", error.Tensor);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void LoadUNet_FiniteWeights_Loads()
    {
        manual_seed(4);
        using var model = new UNetModel(UNetPresets.TinyLiteLdm());
        var path = folder.Combine("fine.safetensors");
        UNetCheckpoint.Save(model, path, "tiny-lite-ldm");

        using var loaded = UNetCheckpoint.Load(path);

        Assert.True(loaded.state_dict()["out.2.weight"].equal(model.state_dict()["out.2.weight"]).all().item<bool>());
    }
}
