using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Training;

public class DiffusionTrainerTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("sd-trainer-").FullName;

    public DiffusionTrainerTests() => TorchRuntime.EnsureLoaded();

    public void Dispose() => Directory.Delete(directory, recursive: true);

    static UNetModel NewModel(long seed, UNetConfig? config = null)
    {
        manual_seed(seed);
        return new UNetModel(config ?? TrainingFixtures.Micro());
    }

    /// <summary>An identical copy (test classes run in parallel and share torch's global generator, so seeds alone do not guarantee it).</summary>
    static UNetModel Copy(UNetModel source)
    {
        var copy = new UNetModel(source.Config);
        copy.load_state_dict(source.state_dict());
        return copy;
    }

    static double HeldOutLoss(ITrainingObjective objective, Tensor images)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var generator = new Generator(99);
        var t = randint(0, 1000, new[] { images.shape[0] }, dtype: ScalarType.Int64, generator: generator);
        var noise = randn(images.shape, generator: generator);
        return objective.Loss(images, Conditioning.None, t, noise)["loss"].item<float>();
    }

    [Fact]
    public void Run_TinyDdpmTraining_LowersHeldOutLoss()
    {
        var schedule = NoiseSchedule.LdmLinear();
        using var objective = new DdpmObjective(NewModel(1), schedule);
        var images = TrainingFixtures.Images(32, seed: 5);
        var before = HeldOutLoss(objective, images);
        using var trainer = new DiffusionTrainer(objective, schedule, TrainingFixtures.Options(steps: 40, batch: 8));

        trainer.Run(new CyclingBatches(images, 8), new RecordingObserver());

        var after = HeldOutLoss(objective, images);
        Assert.True(after < 0.7 * before, $"held-out loss {before:F4} -> {after:F4}");
    }

    [Fact]
    public async Task TrainStep_TwoRanksWithHalfBatches_MatchOneRankWithFullBatch()
    {
        // Gradient averaging done by hand here (the collective is tested separately): the mean of the two ranks'
        // gradients equals the full batch's gradient, and the per-step randomness is sliced from the global batch.
        var schedule = NoiseSchedule.LdmLinear();
        var images = TrainingFixtures.Images(16, seed: 7);
        var start = NewModel(4);
        using var single = new DdpmObjective(Copy(start), schedule);
        using var singleTrainer = new DiffusionTrainer(single, schedule, TrainingFixtures.Options(3, 8));
        var singleBatches = new CyclingBatches(images, 8);
        for (int i = 0; i < 3; i++) singleTrainer.TrainStep(singleBatches.Next().Images, Conditioning.None);

        using var rank0 = new DdpmObjective(Copy(start), schedule);
        using var rank1 = new DdpmObjective(Copy(start), schedule);
        // Both ranks register their parameters; the barrier's post-phase action averages the gradients once.
        var gradients = new List<IReadOnlyList<TorchSharp.Modules.Parameter>>();
        using var barrier = new Barrier(2, _ =>
        {
            using var noGrad = no_grad();
            for (int p = 0; p < gradients[0].Count; p++)
            {
                var mean = (gradients[0][p].grad! + gradients[1][p].grad!) / 2;
                gradients[0][p].grad!.copy_(mean);
                gradients[1][p].grad!.copy_(mean);
            }
            gradients.Clear();
        });
        void Synchronize(IReadOnlyList<TorchSharp.Modules.Parameter> parameters)
        {
            lock (gradients) gradients.Add(parameters);
            barrier.SignalAndWait();
        }
        var ranks = new[] { (rank0, 0), (rank1, 1) }.Select(r => Task.Run(() =>
        {
            using var trainer = new DiffusionTrainer(r.Item1, schedule, TrainingFixtures.Options(3, 4, r.Item2, 2), Synchronize);
            var batches = new CyclingBatches(images, 4, r.Item2, 2);
            for (int i = 0; i < 3; i++) trainer.TrainStep(batches.Next().Images, Conditioning.None);
        })).ToArray();
        await Task.WhenAll(ranks);

        var expected = single.StateTensors().ToDictionary(t => t.Name, t => t.Tensor);
        foreach (var (name, tensor) in rank0.StateTensors())
            Assert.True(tensor.allclose(expected[name], rtol: 1e-4, atol: 1e-5), $"{name} differs between 2x4 and 1x8");
    }

    [Fact]
    public void TrainStep_WithGradientSynchroniser_ReportsItsTimeAsAllReduceSeconds()
    {
        // Arrange: one trainer alone, one whose synchroniser takes at least 20 ms (a stand-in for waiting on the peers).
        var schedule = NoiseSchedule.LdmLinear();
        using var aloneObjective = new DdpmObjective(NewModel(7), schedule);
        using var syncedObjective = new DdpmObjective(NewModel(7), schedule);
        using var alone = new DiffusionTrainer(aloneObjective, schedule, TrainingFixtures.Options(2, 2));
        using var synced = new DiffusionTrainer(syncedObjective, schedule, TrainingFixtures.Options(2, 2), _ => Thread.Sleep(20));

        // Act
        var aloneMetrics = alone.TrainStep(TrainingFixtures.Images(2, 1), Conditioning.None);
        var syncedMetrics = synced.TrainStep(TrainingFixtures.Images(2, 1), Conditioning.None);

        // Assert
        Assert.DoesNotContain(DiffusionTrainer.AllReduceSecondsMetric, aloneMetrics.Keys);
        Assert.InRange(syncedMetrics[DiffusionTrainer.AllReduceSecondsMetric], 0.02, double.MaxValue);
    }

    [Fact]
    public void TrainStep_NaNInput_ThrowsWithStepNumber()
    {
        var schedule = NoiseSchedule.LdmLinear();
        using var objective = new DdpmObjective(NewModel(5), schedule);
        using var trainer = new DiffusionTrainer(objective, schedule, TrainingFixtures.Options(5, 2));
        trainer.TrainStep(TrainingFixtures.Images(2, 1), Conditioning.None);

        var error = Assert.Throws<TrainingDivergedException>(() => trainer.TrainStep(full(2, 3, 16, 16, float.NaN), Conditioning.None));

        Assert.Equal(1, error.Step);
        Assert.Contains("step 1", error.Message);
    }

    [Fact]
    public void Run_CheckpointEvery_CallsObserverAtMultiplesAndEnd()
    {
        var schedule = NoiseSchedule.LdmLinear();
        using var objective = new DdpmObjective(NewModel(6), schedule);
        using var trainer = new DiffusionTrainer(objective, schedule, TrainingFixtures.Options(5, 2) with { CheckpointEvery = 2 });
        var observer = new RecordingObserver();

        trainer.Run(new CyclingBatches(TrainingFixtures.Images(4, 2), 2), observer);

        Assert.Equal(new long[] { 2, 4, 5 }, observer.CheckpointSteps);
        Assert.Equal(5, observer.Reports.Count);
        Assert.All(observer.Reports, r => Assert.True(r.Metrics.ContainsKey("loss_ddpm") && r.Metrics.ContainsKey("lr")));
    }
}
