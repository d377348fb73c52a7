using System.Collections;
using SpectralDiffusion.Worker.Evaluation;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Evaluation;

public class FidInceptionV3Tests
{
    public FidInceptionV3Tests() => TorchRuntime.EnsureLoaded();

    [PythonTorchFact]
    public void Forward_SameRandomStateDictAsPytorchFid_GivesSamePool3Features()
    {
        // Arrange: PyTorch builds pytorch-fid's network with seeded random weights and computes features.
        using var folder = new TemporaryFolder();
        var weightsPath = folder.Combine("inception.pth");
        var dataPath = folder.Combine("data.pth");
        PythonTorch.Run(PythonTorch.Script("Evaluation/py/fid_inception_reference.py"), weightsPath, dataPath, "3");
        var data = PyTorchUnpickler.UnpickleStateDict(dataPath);
        var images = (Tensor)data["images"]!;
        var expected = (Tensor)data["features"]!;

        // Act
        using var model = InceptionWeights.Load(weightsPath);
        Tensor actual;
        using (no_grad()) actual = model.call(images);

        // Assert
        Assert.Equal(new long[] { 2, 2048 }, actual.shape);
        var scale = expected.abs().max().item<float>();
        var error = (actual - expected).abs().max().item<float>();
        Assert.True(scale > 1e-3f, $"reference features are degenerate (max |f| = {scale})");
        Assert.True(error <= 1e-4f * scale, $"max |Δ| = {error} against max |f| = {scale}");
    }

    [Fact]
    public void StateDict_Keys_AreTorchvisionInceptionNames()
    {
        using var model = new FidInceptionV3();

        var keys = model.state_dict().Keys.ToHashSet();

        Assert.Contains("Conv2d_1a_3x3.conv.weight", keys);
        Assert.Contains("Conv2d_1a_3x3.bn.running_var", keys);
        Assert.Contains("Mixed_5b.branch_pool.conv.weight", keys);
        Assert.Contains("Mixed_7c.branch3x3dbl_3b.bn.bias", keys);
        Assert.Equal(new long[] { 1008, 2048 }, model.state_dict()["fc.weight"].shape);
        Assert.DoesNotContain(keys, k => k.StartsWith("AuxLogits", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_MissingFile_ThrowsNamingDocs()
    {
        var error = Assert.Throws<FileNotFoundException>(() => InceptionWeights.Load("/nonexistent/pt_inception.pth"));

        Assert.Contains("/nonexistent/pt_inception.pth", error.Message);
        Assert.Contains(InceptionWeights.DocumentationPath, error.Message);
    }

    [Fact]
    public void Load_SafetensorsWithWrongKey_ThrowsListingKeys()
    {
        // Arrange: the model's own weights with one key renamed.
        using var folder = new TemporaryFolder();
        using var model = new FidInceptionV3();
        var state = model.state_dict().Where(kv => !kv.Key.EndsWith("num_batches_tracked")).ToDictionary(kv => kv.Key, kv => kv.Value);
        state["fc.weights"] = state["fc.weight"];
        state.Remove("fc.weight");
        var path = folder.Combine("bad.safetensors");
        Safetensors.SaveStateDict(path, state);

        // Act
        var error = Assert.Throws<InvalidDataException>(() => InceptionWeights.Load(path));

        // Assert
        Assert.Contains("missing (fc.weight)", error.Message);
        Assert.Contains("unexpected (fc.weights)", error.Message);
    }
}
