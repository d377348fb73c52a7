using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Training;

/// <summary>
/// What resume promises (docs/numerics.md): bit-exact at a fixed thread count on the same machine; within float
/// tolerance when the thread count changes (libtorch splits its reductions by thread).
/// </summary>
[Collection(TorchThreadsCollection.Name)]
public sealed class ResumeDeterminismTests : IDisposable
{
    const int Steps = 6, Batch = 4;
    readonly string directory = Directory.CreateTempSubdirectory("sd-resume-").FullName;
    readonly NoiseSchedule schedule = NoiseSchedule.LdmLinear();
    readonly Tensor images;
    readonly UNetModel start;

    public ResumeDeterminismTests()
    {
        TorchRuntime.EnsureLoaded();
        images = TrainingFixtures.Images(24, seed: 6);
        manual_seed(2);
        start = new UNetModel(TrainingFixtures.Micro());
    }

    public void Dispose()
    {
        Directory.Delete(directory, recursive: true);
        images.Dispose();
        start.Dispose();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void RestoreState_FromShardsAfterStop_EqualsUninterruptedRunBitExactly(int threads)
    {
        Dictionary<string, Tensor> straight = [], resumed = [];
        TorchStress.WithThreads(threads, () =>
        {
            straight = Uninterrupted();
            resumed = StoppedAndResumed(stopAfter: 3, resumeThreads: threads);
        });

        Assert.Equal(straight.Keys.Order(), resumed.Keys.Order());
        foreach (var (name, tensor) in resumed)
            Assert.True(tensor.eq(straight[name]).all().item<bool>(), $"{name} differs after resume at {threads} threads");
    }

    [Fact]
    public void RestoreState_ResumedAtAnotherThreadCount_EqualsWithinTolerance()
    {
        Dictionary<string, Tensor> straight = [], resumed = [];
        TorchStress.WithThreads(2, () =>
        {
            straight = Uninterrupted();
            resumed = StoppedAndResumed(stopAfter: 3, resumeThreads: 1);
        });

        foreach (var (name, tensor) in resumed)
        {
            var difference = (tensor.to(ScalarType.Float64) - straight[name].to(ScalarType.Float64)).abs().max().item<double>();
            Assert.True(difference <= 1e-5, $"{name} differs by {difference} after resuming at another thread count");
        }
    }

    Dictionary<string, Tensor> Uninterrupted()
    {
        using var objective = new DdpmObjective(Copy(start), schedule);
        using (var trainer = new DiffusionTrainer(objective, schedule, TrainingFixtures.Options(Steps, Batch)))
            trainer.Run(new CyclingBatches(images, Batch), new RecordingObserver());
        return Snapshot(objective);
    }

    /// <summary>Trains <paramref name="stopAfter"/> steps, checkpoints as 2 shards, then resumes a fresh model from them.</summary>
    Dictionary<string, Tensor> StoppedAndResumed(int stopAfter, int resumeThreads)
    {
        var shards = new[] { Path.Combine(directory, "s0.safetensors"), Path.Combine(directory, "s1.safetensors") };
        using (var first = new DdpmObjective(Copy(start), schedule))
        using (var trainer = new DiffusionTrainer(first, schedule, TrainingFixtures.Options(Steps, Batch)))
        {
            var batches = new CyclingBatches(images, Batch);
            for (var i = 0; i < stopAfter; i++) trainer.TrainStep(batches.Next().Images, Conditioning.None);
            var state = trainer.CaptureState();
            state.WriteShard(shards[0], 0, 2);
            state.WriteShard(shards[1], 1, 2);
        }

        manual_seed(77);
        using var resumed = new DdpmObjective(new UNetModel(start.Config), schedule);
        TorchStress.WithThreads(resumeThreads, () =>
        {
            using var trainer = new DiffusionTrainer(resumed, schedule, TrainingFixtures.Options(Steps, Batch));
            trainer.RestoreState(TrainingState.ReadShards(shards));
            Assert.Equal(stopAfter, trainer.Step);
            trainer.Run(new CyclingBatches(images, Batch, startStep: stopAfter), new RecordingObserver());
        });
        return Snapshot(resumed);
    }

    static Dictionary<string, Tensor> Snapshot(ITrainingObjective objective) =>
        objective.StateTensors().ToDictionary(t => t.Name, t => t.Tensor.detach().clone());

    static UNetModel Copy(UNetModel source)
    {
        var copy = new UNetModel(source.Config);
        copy.load_state_dict(source.state_dict());
        return copy;
    }
}
