using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Jobs;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Models;

/// <summary>One conditioning for class labels and captions: the UNet reads both, guidance mixes both, bad inputs are named.</summary>
public class ConditioningTests
{
    public ConditioningTests() => TorchRuntime.EnsureLoaded();

    static UNetModel TextModel(bool learnedNull = true)
    {
        manual_seed(4);
        var model = new UNetModel(UNetPresets.TinyTxtLdm() with { LearnedNullContext = learnedNull, ContextTokens = learnedNull ? 8 : null });
        RandomizeZeroInitialisedLayers(model);
        return model;
    }

    /// <summary>CompVis zero-initialises output convolutions; random weights make every input reach the output.</summary>
    static void RandomizeZeroInitialisedLayers(UNetModel model)
    {
        using var _ = no_grad();
        foreach (var (_, parameter) in model.named_parameters()) parameter.copy_(randn_like(parameter) * 0.1);
    }

    [Fact]
    public void Forward_TextContext_ReachesTheOutput()
    {
        using var model = TextModel();
        var x = randn(2, 3, 32, 32);
        var t = tensor(new long[] { 10, 500 });
        var context = randn(2, 8, 32);

        var first = model.forward(x, t, Conditioning.Text(context));
        var second = model.forward(x, t, Conditioning.Text(context + 1));
        var shorter = model.forward(x, t, Conditioning.Text(context.narrow(1, 0, 3)));   // any L works

        Assert.False(first.allclose(second, rtol: 0, atol: 1e-4), "the caption context must change the prediction");
        Assert.Equal(first.shape, shorter.shape);
    }

    [Fact]
    public void PredictNoise_TextContext_IsUnconditionalPlusScaledDifference()
    {
        using var model = TextModel();
        model.eval();
        Denoiser denoiser = (x, t, c) => model.forward(x, t, c);
        var x = randn(2, 3, 32, 32);
        var t = tensor(new long[] { 100, 700 });
        var caption = Conditioning.Text(randn(2, 8, 32));
        using var _ = no_grad();

        var guidance = ConditioningInputs.Guidance(model, 3.0, null, "--guidance", "--null-context");
        var guided = guidance.PredictNoise(denoiser, x, t, caption);
        var plain = ConditioningInputs.Guidance(model, 1.0, null, "--guidance", "--null-context").PredictNoise(denoiser, x, t, caption);

        var conditional = model.forward(x, t, caption);
        var unconditional = model.forward(x, t, Conditioning.Text(model.NullContext!.unsqueeze(0).expand(2, -1, -1)));
        Assert.True(guided.allclose(unconditional + 3.0 * (conditional - unconditional), rtol: 1e-4, atol: 1e-5));
        Assert.True(plain.allclose(conditional, rtol: 1e-4, atol: 1e-5));
        Assert.False(conditional.allclose(unconditional, rtol: 0, atol: 1e-4), "the null context must differ from the caption");
    }

    [Fact]
    public void PredictNoise_ClassCrossAttention_IsUnconditionalPlusScaledDifference()
    {
        manual_seed(5);
        using var model = new UNetModel(UNetPresets.TinyLdm() with { UseSpatialTransformer = true, ContextDim = 16, NumClasses = 10 });
        RandomizeZeroInitialisedLayers(model);
        model.eval();
        Denoiser denoiser = (x, t, c) => model.forward(x, t, c);
        var x = randn(2, 3, 32, 32);
        var t = tensor(new long[] { 100, 700 });
        var labels = Conditioning.Classes(tensor(new long[] { 2, 7 }));
        using var _ = no_grad();

        var guided = ConditioningInputs.Guidance(model, 2.5, null, "--guidance", "--null-context").PredictNoise(denoiser, x, t, labels);

        var conditional = model.forward(x, t, labels);
        var unconditional = model.forward(x, t, Conditioning.Classes(tensor(new long[] { 10, 10 })));
        Assert.True(guided.allclose(unconditional + 2.5 * (conditional - unconditional), rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void Forward_ContextOfWrongWidth_ThrowsNamingContextDim()
    {
        using var model = TextModel();

        var error = Assert.Throws<ArgumentException>(() => model.forward(zeros(1, 3, 32, 32), tensor(new long[] { 1 }), Conditioning.Text(zeros(1, 8, 31))));

        Assert.Equal("context", error.ParamName);
        Assert.Contains("context_dim is 32", error.Message);
    }

    [Fact]
    public void Text_ZeroTokens_ThrowsNamingL()
    {
        var error = Assert.Throws<ArgumentException>(() => Conditioning.Text(zeros(1, 0, 32)));

        Assert.Equal("context", error.ParamName);
        Assert.Contains("L = 0", error.Message);
    }

    [Fact]
    public void Forward_ClassLabelBeyondTheEmbedder_ThrowsNamingTheRows()
    {
        manual_seed(1);
        using var model = new UNetModel(UNetPresets.TinyCinLiteLdm());

        var error = Assert.Throws<ArgumentException>(() => model.forward(zeros(1, 3, 32, 32), tensor(new long[] { 1 }), Conditioning.Classes(tensor(new long[] { 11 }))));

        Assert.Equal("classLabels", error.ParamName);
        Assert.Contains("class embedder's 11 rows", error.Message);
    }

    [Fact]
    public void Guidance_TextModelWithoutNullContext_ThrowsNamingTheNullContextOption()
    {
        using var model = TextModel(learnedNull: false);

        var error = Assert.Throws<ArgumentException>(() => ConditioningInputs.Guidance(model, 2.0, null, "--guidance", "--null-context"));

        Assert.Contains("--guidance", error.Message);
        Assert.Contains("--null-context", error.Message);
    }

    [Fact]
    public void Guidance_TextModelWithSuppliedNullContext_UsesIt()
    {
        using var model = TextModel(learnedNull: false);
        var supplied = randn(1, 5, 32);

        var guidance = ConditioningInputs.Guidance(model, 2.0, supplied, "--guidance", "--null-context");

        Assert.True(guidance.Unconditional.Context!.allclose(supplied));
    }

    [Fact]
    public void TrainStep_CaptionDropout_TrainsTheLearnedNullContext()
    {
        using var model = TextModel();
        Assert.Contains("null_context", model.named_parameters().Select(p => p.name));
        var before = model.NullContext!.detach().clone();
        using var objective = new DdpmObjective(model, NoiseSchedule.LdmLinear());
        using var trainer = new DiffusionTrainer(objective, NoiseSchedule.LdmLinear(),
            new TrainerOptions { Steps = 2, BatchSize = 2, LogEvery = 1, LearningRate = 1e-2, ConditionDropout = 1.0 });

        trainer.TrainStep(rand(2, 3, 32, 32) * 2 - 1, Conditioning.Text(randn(2, 8, 32)));

        Assert.False(model.NullContext!.allclose(before, rtol: 0, atol: 0), "every caption was dropped, so the null context must move");
    }

    [Fact]
    public void Replace_DroppedRows_TakeTheNullContext()
    {
        var context = Conditioning.Text(ones(3, 2, 4));
        var nullContext = Conditioning.Text(zeros(1, 2, 4)).Expand(3);

        var dropped = context.Replace(tensor(new[] { true, false, true }), nullContext);

        Assert.Equal(new[] { 0f, 1f, 0f }, dropped.Context!.sum(new long[] { 1, 2 }).data<float>().ToArray().Select(v => v / 8).ToArray());
    }
}
