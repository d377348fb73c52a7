using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.FirstStage;

public sealed class AutoencoderTests
{
    public AutoencoderTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData("vq-f4", 55_322_782)]
    [InlineData("kl-f8", 83_653_863)]
    public void CountParameters_CompVisConfigs_MatchCompVisCode(string name, long expected)
    {
        using var model = new Autoencoder(AutoencoderPresets.Get(name));

        Assert.Equal(expected, ModelStatistics.CountParameters(model));
    }

    [Fact]
    public void StateDict_VqF8_HasCompVisNames()
    {
        using var model = new Autoencoder(AutoencoderPresets.VqF8());

        var keys = model.state_dict().Keys.ToHashSet();

        Assert.Contains("quantize.embedding.weight", keys);
        Assert.Contains("encoder.down.0.block.0.norm1.weight", keys);
        Assert.Contains("encoder.down.1.block.0.nin_shortcut.weight", keys);
        Assert.Contains("encoder.down.0.downsample.conv.weight", keys);
        Assert.Contains("encoder.mid.attn_1.proj_out.weight", keys);
        Assert.Contains("decoder.up.3.attn.2.q.weight", keys);     // level 3 is at 32² for a 256² image: attention there
        Assert.Contains("decoder.up.1.upsample.conv.bias", keys);
        Assert.Contains("post_quant_conv.weight", keys);
        Assert.DoesNotContain("decoder.up.0.upsample.conv.weight", keys);
        Assert.DoesNotContain("encoder.down.3.downsample.conv.weight", keys);
        Assert.Equal(new long[] { 16384, 4 }, model.state_dict()["quantize.embedding.weight"].shape);
    }

    [Theory]
    [InlineData("tiny-kl", 32, 3, 16)]
    [InlineData("vq-f4", 16, 3, 4)]
    public void EncodeDecode_Images_GiveLatentAndImageShapes(string name, int size, long latentChannels, long latentSize)
    {
        using var model = new Autoencoder(AutoencoderPresets.Get(name));
        using var _ = no_grad();
        var x = rand(2, 3, size, size) * 2 - 1;

        var z = model.Encode(x);
        var decoded = model.Decode(z);

        Assert.Equal(new long[] { 2, latentChannels, latentSize, latentSize }, z.shape);
        Assert.Equal(x.shape, decoded.shape);
    }

    [Fact]
    public void EncodeForTraining_Kl_SamplesAroundThePosteriorMean()
    {
        using var model = new Autoencoder(AutoencoderPresets.TinyKl());
        using var _ = no_grad();
        var x = rand(1, 3, 16, 16) * 2 - 1;

        var mean = model.Encode(x);
        var first = model.EncodeForTraining(x, new Generator(1));
        var second = model.EncodeForTraining(x, new Generator(2));

        Assert.False(first.allclose(second));
        Assert.False(first.allclose(mean));
        var posterior = model.Posterior(x);
        var standardised = ((first - posterior.Mean) / posterior.Std).abs().max().item<float>();
        Assert.True(standardised < 6, $"a sample lies {standardised} standard deviations from the mean");
    }

    [Fact]
    public void Decode_Vq_SnapsToTheNearestCodebookEntry()
    {
        using var model = new Autoencoder(AutoencoderPresets.VqF4() with { Channels = 32, CodebookSize = 16 });
        var codebook = model.state_dict()["quantize.embedding.weight"];
        using (no_grad()) codebook.copy_(randn(16, 3));
        var quantizer = (VectorQuantizer)model.named_children().Single(c => c.name == "quantize").module;
        // Each latent vector is a codebook entry plus a small offset: its index must come back.
        var indices = tensor(new long[] { 3, 7, 0, 15 });
        var z = (codebook.index_select(0, indices) + 0.01 * randn(4, 3)).reshape(1, 2, 2, 3).permute(0, 3, 1, 2);

        var found = quantizer.Indices(z);

        Assert.Equal(indices.data<long>().ToArray(), found.reshape(-1).data<long>().ToArray());
    }

    /// <summary>The suite writes random weights (CompVis names), PyTorch runs its own copy of model.py on them, and both
    /// encodings and decodings must agree to 1e-4 of the reference's scale.</summary>
    [PythonTorchTheory]
    [InlineData("vq-f4", 16)]
    [InlineData("kl-f8", 16)]
    public void EncodeDecode_SameRandomWeightsAsPyTorchReference_Agree(string name, int size)
    {
        // Arrange: random weights, with norms and (VQ) a codebook at the latents' scale so no two codes nearly tie.
        using var folder = new TemporaryFolder();
        manual_seed(11);
        using var model = new Autoencoder(AutoencoderPresets.Get(name));
        using (no_grad())
            foreach (var (key, value) in model.state_dict())
            {
                if (key.Contains("norm") && key.EndsWith(".weight", StringComparison.Ordinal)) value.copy_(1 + 0.1 * randn_like(value));
                else if (key.Contains("norm")) value.copy_(0.1 * randn_like(value));
                else if (key == "quantize.embedding.weight") value.copy_(randn_like(value));
            }
        var x = rand(2, 3, size, size) * 2 - 1;
        var weightsPath = folder.Combine("weights.pth");
        var dataPath = folder.Combine("data.pth");
        var referencePath = folder.Combine("reference.pth");
        PyTorchPickler.PickleStateDict(weightsPath, model.state_dict().ToDictionary(p => p.Key, p => p.Value));
        PyTorchPickler.PickleStateDict(dataPath, new Dictionary<string, Tensor> { ["x"] = x });

        // Act
        PythonTorch.Run(PythonTorch.Script("FirstStage/py/first_stage_reference.py"), "run", name, weightsPath, dataPath, referencePath);
        var reference = PyTorchUnpickler.UnpickleStateDict(referencePath);
        Tensor z, decoded;
        using (no_grad())
        {
            z = model.Encode(x);
            decoded = model.Decode(z);
        }

        // Assert
        AssertClose((Tensor)reference["z"]!, z, "z");
        AssertClose((Tensor)reference["x"]!, decoded, "x");
    }

    static void AssertClose(Tensor expected, Tensor actual, string name)
    {
        Assert.Equal(expected.shape, actual.shape);
        var scale = expected.abs().max().item<float>();
        var error = (actual - expected).abs().max().item<float>();
        Assert.True(scale > 1e-3f, $"{name}: reference is degenerate (max |v| = {scale})");
        Assert.True(error <= 1e-4f * scale, $"{name}: max |Δ| = {error} against max |v| = {scale}");
    }
}

public sealed class FirstStageShapeTests
{
    /// <summary>The orchestrator checks specs against <see cref="Shared.Jobs.KnownFirstStages"/> without TorchSharp; this keeps it equal to the engine.</summary>
    [Fact]
    public void KnownFirstStages_EveryConfig_MatchesTheEngine()
    {
        Assert.Equal(AutoencoderPresets.Names, Shared.Jobs.KnownFirstStages.All);
        foreach (var name in AutoencoderPresets.Names)
        {
            var (engine, shape) = (AutoencoderPresets.Get(name), Shared.Jobs.KnownFirstStages.Shape(name));
            Assert.Equal(engine.DownsamplingFactor, shape.Factor);
            Assert.Equal(engine.LatentChannels, shape.LatentChannels);
        }
    }
}
