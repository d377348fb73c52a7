using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Training;

/// <summary>Small deterministic models and data for trainer tests.</summary>
static class TrainingFixtures
{
    /// <summary>A 16×16 two-level UNet small enough for a few CPU steps per test.</summary>
    public static UNetConfig Micro(int modelChannels = 16, bool wavelet = false, int[]? mult = null) => UNetPresets.TinyLiteLdm() with
    {
        ImageSize = 16, ModelChannels = modelChannels, ChannelMult = mult ?? [1, 2], NumResBlocks = 1, AttentionResolutions = [], WaveletGating = wavelet,
    };

    /// <summary>Smooth random images in [-1, 1], the same for the same seed.</summary>
    public static Tensor Images(long count, long seed, int size = 16)
    {
        using var generator = new Generator((ulong)seed);
        var coarse = rand(new long[] { count, 3, 4, 4 }, generator: generator) * 2 - 1;
        return nn.functional.interpolate(coarse, new long[] { size, size }, mode: InterpolationMode.Bilinear, align_corners: false);
    }

    public static TrainerOptions Options(long steps, int batch, int rank = 0, int world = 1) => new()
    {
        Steps = steps, BatchSize = batch, Seed = 3, Rank = rank, WorldSize = world, LogEvery = 1,
        LearningRate = 2e-3, WarmupSteps = 0, GradClip = 1.0, EmaDecay = 0.99,
    };
}

/// <summary>Cycles over a fixed image tensor: step s takes the global batch starting at s·W·B, this rank its slice.</summary>
sealed class CyclingBatches(Tensor images, int batch, int rank = 0, int world = 1, long startStep = 0) : ITrainingBatches
{
    long step = startStep;

    public (Tensor Images, Conditioning Conditioning) Next()
    {
        var count = images.shape[0];
        var indices = arange(batch, dtype: ScalarType.Int64) + (step * batch * world + rank * batch);
        step++;
        return (images.index_select(0, indices.remainder(count)), Conditioning.None);
    }

    public void Dispose() { }
}

sealed class RecordingObserver : ITrainingObserver
{
    public List<StepReport> Reports { get; } = new();
    public List<long> CheckpointSteps { get; } = new();
    public Action<TrainingState>? OnState { get; init; }

    public void OnProgress(StepReport report) => Reports.Add(report);

    public void OnCheckpoint(TrainingState state)
    {
        CheckpointSteps.Add(state.Step);
        OnState?.Invoke(state);
    }
}
