using SpectralDiffusion.Worker.Torch;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Training;

public class ExponentialMovingAverageTests
{
    public ExponentialMovingAverageTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Update_FollowsLitEmaWarmup()
    {
        var model = nn.Linear(2, 1);
        using (no_grad()) { model.weight!.fill_(0); model.bias!.fill_(0); }
        var ema = new ExponentialMovingAverage(model, decay: 0.9999);

        // First update: d = min(0.9999, 2/11); shadow = 0 - (1 - d)(0 - 1) = 1 - d.
        using (no_grad()) model.weight!.fill_(1);
        ema.Update();

        var expected = 1.0 - 2.0 / 11.0;
        var shadow = ema.Shadows.Single(s => s.Name == "weight").Shadow;
        Assert.Equal(expected, shadow[0, 0].item<float>(), 5);
        Assert.Equal(1, ema.Updates);
    }

    [Fact]
    public void CopyTo_WritesShadowIntoTarget()
    {
        manual_seed(5);
        var model = nn.Linear(3, 2);
        var ema = new ExponentialMovingAverage(model);
        var target = nn.Linear(3, 2);

        ema.CopyTo(target);

        Assert.True(target.weight!.allclose(model.weight!));
    }
}
