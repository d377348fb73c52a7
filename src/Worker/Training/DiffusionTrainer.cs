using System.Diagnostics;
using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Training;

/// <summary>
/// The training loop shared by teachers, baselines and distilled students: AdamW with linear warm-up/decay,
/// gradient clipping, LitEma, one dispose scope per step, and data parallelism through a gradient synchroniser.
/// Noise, timesteps and condition dropout (class label or caption → its null) for step s come from a generator seeded by (seed, s) and drawn for the
/// whole global batch, of which this rank takes its slice: W ranks with batch B reproduce 1 rank with batch W·B,
/// and a resumed run reproduces an uninterrupted one.
/// </summary>
public sealed class DiffusionTrainer : IDisposable
{
    /// <summary>The metric holding a step's gradient synchronisation time on this rank (all-reduce and waiting for the peers), seconds; absent when training alone.</summary>
    public const string AllReduceSecondsMetric = "allreduce_seconds";

    readonly ITrainingObjective objective;
    readonly NoiseSchedule schedule;
    readonly TrainerOptions options;
    readonly Action<IReadOnlyList<Parameter>>? synchronizeGradients;
    readonly IReadOnlyList<Parameter> parameters;
    readonly AdamW optimizer;
    readonly ExponentialMovingAverage ema;
    readonly LearningRateSchedule learningRate;
    readonly Func<long, Conditioning?>? unconditional;

    /// <param name="synchronizeGradients">averages gradients across ranks before each optimiser step (null when training alone).</param>
    /// <param name="unconditional">the null conditioning for a batch of B (condition dropout); default: the model's own
    /// (<see cref="UNetModel.Unconditional"/>: the null class, or the learned null context).</param>
    /// <param name="phases">where step time is charged (shared with the objective, which charges the teacher's forward pass); a new one when null.</param>
    public DiffusionTrainer(ITrainingObjective objective, NoiseSchedule schedule, TrainerOptions options, Action<IReadOnlyList<Parameter>>? synchronizeGradients = null,
        Func<long, Conditioning?>? unconditional = null, StepPhases? phases = null)
    {
        Phases = phases ?? new StepPhases();
        options.Validate();
        this.objective = objective;
        this.schedule = schedule;
        this.options = options;
        this.synchronizeGradients = synchronizeGradients;
        parameters = objective.TrainableParameters.Select(p => p.Parameter).ToList();
        optimizer = optim.AdamW(parameters, options.LearningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: options.WeightDecay);
        ema = new ExponentialMovingAverage(objective.Model, options.EmaDecay);
        learningRate = options.Schedule;
        this.unconditional = unconditional ?? (objective.Model is UNetModel model ? batch => model.Unconditional(batch) : null);
    }

    /// <summary>Optimiser steps taken so far (the next step's index).</summary>
    public long Step { get; private set; }
    public ExponentialMovingAverage Ema => ema;
    public TrainerOptions Options => options;
    /// <summary>Wall time per phase of the steps <see cref="Run"/> has taken.</summary>
    public StepPhases Phases { get; }

    /// <summary>Runs from <see cref="Step"/> to the last step; returns early (after a whole step) when cancelled.</summary>
    public void Run(ITrainingBatches batches, ITrainingObserver observer, CancellationToken cancellation = default)
    {
        objective.Model.train();
        var clock = Stopwatch.StartNew();
        long stepsSinceReport = 0;
        var sums = new Dictionary<string, double>();
        Phases.Restart();
        while (Step < options.Steps && !cancellation.IsCancellationRequested)
        {
            var (images, conditioning) = batches.Next();
            Phases.Lap(StepPhases.Data);
            var metrics = TrainStep(images, conditioning);
            images.Dispose();
            conditioning.DisposeTensors();
            Phases.Lap(StepPhases.Collection);
            Phases.CountStep();
            foreach (var (name, value) in metrics) sums[name] = sums.GetValueOrDefault(name) + value;
            stepsSinceReport++;

            if (Step % options.LogEvery == 0 || Step == options.Steps)
            {
                var rate = stepsSinceReport / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
                var averages = sums.ToDictionary(m => m.Key, m => m.Value / stepsSinceReport);
                averages["lr"] = metrics["lr"];
                observer.OnProgress(new StepReport(Step, options.Steps, averages, rate, TimeSpan.FromSeconds((options.Steps - Step) / Math.Max(rate, 1e-9))));
                sums.Clear();
                stepsSinceReport = 0;
                clock.Restart();
            }
            if (Step == options.Steps || (options.CheckpointEvery > 0 && Step % options.CheckpointEvery == 0))
                observer.OnCheckpoint(CaptureState());
            Phases.Lap(StepPhases.Reports);
        }
    }

    /// <summary>One optimiser step on this rank's batch; returns the step's scalar metrics.</summary>
    public IReadOnlyDictionary<string, double> TrainStep(Tensor images, Conditioning conditioning) =>
        CollectionPause.Run(() =>
        {
            Phases.Lap(StepPhases.Collection); // entering the no-GC region
            return TrainStepUnpaused(images, conditioning);
        });

    IReadOnlyDictionary<string, double> TrainStepUnpaused(Tensor images, Conditioning conditioning)
    {
        using var scope = NewDisposeScope();
        var rate = learningRate.RateAt(Step);
        foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;

        var (timesteps, noise, stepConditioning) = DrawStepRandomness(images, conditioning);
        Phases.Lap(StepPhases.Data);
        var losses = objective.Loss(images, stepConditioning, timesteps, noise);
        var metrics = new Dictionary<string, double>();
        foreach (var (name, value) in losses)
        {
            var scalar = value.item<float>();
            if (!float.IsFinite(scalar)) throw TrainingDivergedException.Loss(Step, name, scalar);
            metrics[name] = scalar;
        }
        Phases.Lap(StepPhases.Forward);

        optimizer.zero_grad();
        losses["loss"].backward();
        Phases.Lap(StepPhases.Backward);
        if (synchronizeGradients is not null)
        {
            var synchronizing = Stopwatch.GetTimestamp();
            synchronizeGradients(parameters);
            metrics[AllReduceSecondsMetric] = Stopwatch.GetElapsedTime(synchronizing).TotalSeconds;
            Phases.Lap(StepPhases.AllReduce);
        }
        var gradNorm = options.GradClip > 0
            ? nn.utils.clip_grad_norm_(parameters, options.GradClip)
            : GradientNorm();
        if (!double.IsFinite(gradNorm)) throw TrainingDivergedException.Gradient(Step, gradNorm, FirstNonFiniteGradient());
        metrics["grad_norm"] = gradNorm;
        optimizer.step();
        ema.Update();
        Phases.Lap(StepPhases.Optimizer);
        Step++;
        metrics["lr"] = rate;
        return metrics;
    }

    /// <summary>The L2 norm over every parameter's gradient (what clip_grad_norm_ measures).</summary>
    double GradientNorm()
    {
        var norms = parameters.Where(p => p.grad is not null).Select(p => p.grad!.norm()).ToArray();
        return norms.Length == 0 ? 0 : stack(norms).norm().item<float>();
    }

    string FirstNonFiniteGradient() =>
        objective.TrainableParameters.FirstOrDefault(p => p.Parameter.grad is { } grad && !grad.isfinite().all().item<bool>()).Name ?? "(none)";

    /// <summary>Timesteps, noise and (for conditional models) condition dropout for this step and rank.</summary>
    (Tensor Timesteps, Tensor Noise, Conditioning Conditioning) DrawStepRandomness(Tensor images, Conditioning conditioning)
    {
        long local = images.shape[0];
        long global = local * options.WorldSize;
        long offset = local * options.Rank;
        using var generator = new Generator((ulong)SeedMixer.StepSeed(options.Seed, Step));
        var shape = images.shape.ToArray();
        shape[0] = global;
        var timesteps = randint(0, schedule.Timesteps, new[] { global }, dtype: ScalarType.Int64, generator: generator).narrow(0, offset, local);
        var noise = randn(shape, dtype: images.dtype, generator: generator).narrow(0, offset, local).to(images.device);
        var dropout = rand(new[] { global }, generator: generator).narrow(0, offset, local);
        if (conditioning.IsNone || options.ConditionDropout <= 0) return (timesteps.to(images.device), noise, conditioning);
        var nullConditioning = unconditional?.Invoke(local)
            ?? throw new ArgumentException("conditioning.dropout: dropping conditions needs a null context (conditioning.null_context: the empty-prompt embedding file) " +
                                           "or a preset with a learned one; set conditioning.dropout to 0 to train without classifier-free guidance");
        return (timesteps.to(images.device), noise, conditioning.Replace(dropout.lt(options.ConditionDropout), nullConditioning));
    }

    /// <summary>The complete state after <see cref="Step"/> steps (tensors are live references; write them out before the next step).</summary>
    public TrainingState CaptureState(IReadOnlyDictionary<string, string>? info = null)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, tensor) in objective.StateTensors()) tensors[name] = tensor;
        foreach (var (name, shadow) in ema.Shadows) tensors["ema." + name] = shadow;
        var states = optimizer.state_dict().State;
        for (int i = 0; i < parameters.Count; i++)
        {
            var state = (AdamW.State)states[i];
            var name = objective.TrainableParameters[i].Name;
            tensors[$"optim.{name}.exp_avg"] = state.exp_avg;
            tensors[$"optim.{name}.exp_avg_sq"] = state.exp_avg_sq;
            tensors[$"optim.{name}.step"] = tensor(new[] { state.step });
        }
        return new TrainingState { Step = Step, Seed = options.Seed, EmaUpdates = ema.Updates, Info = info ?? new Dictionary<string, string>(), Tensors = tensors };
    }

    /// <summary>Loads a state captured by <see cref="CaptureState"/> (from any world size); every tensor must match by name and shape.</summary>
    public void RestoreState(TrainingState state)
    {
        if (state.Seed != options.Seed)
            throw new ArgumentException($"checkpoint was trained with seed {state.Seed}, this run uses {options.Seed}; resuming would not reproduce the run");
        var targets = new Dictionary<string, Tensor>();
        foreach (var (name, tensor) in objective.StateTensors()) targets[name] = tensor;
        foreach (var (name, shadow) in ema.Shadows) targets["ema." + name] = shadow;
        var states = optimizer.state_dict().State;
        var steps = new Dictionary<string, AdamW.State>();
        for (int i = 0; i < parameters.Count; i++)
        {
            var adam = (AdamW.State)states[i];
            var name = objective.TrainableParameters[i].Name;
            targets[$"optim.{name}.exp_avg"] = adam.exp_avg;
            targets[$"optim.{name}.exp_avg_sq"] = adam.exp_avg_sq;
            steps[$"optim.{name}.step"] = adam;
        }

        var missing = targets.Keys.Concat(steps.Keys).Where(k => !state.Tensors.ContainsKey(k)).ToList();
        var unexpected = state.Tensors.Keys.Where(k => !targets.ContainsKey(k) && !steps.ContainsKey(k)).ToList();
        var misshapen = targets.Where(t => state.Tensors.TryGetValue(t.Key, out var s) && !s.shape.SequenceEqual(t.Value.shape)).Select(t => t.Key).ToList();
        if (missing.Count + unexpected.Count + misshapen.Count > 0)
            throw new InvalidDataException("checkpoint does not match this run's model: " +
                $"missing [{string.Join(", ", missing.Take(8))}{(missing.Count > 8 ? ", ..." : "")}], " +
                $"unexpected [{string.Join(", ", unexpected.Take(8))}{(unexpected.Count > 8 ? ", ..." : "")}], " +
                $"wrong shape [{string.Join(", ", misshapen.Take(8))}]");

        using (no_grad())
            foreach (var (name, target) in targets) target.copy_(state.Tensors[name]);
        foreach (var (name, adam) in steps) adam.step = state.Tensors[name].item<long>();
        ema.RestoreUpdates(state.EmaUpdates);
        Step = state.Step;
    }

    public void Dispose()
    {
        optimizer.Dispose();
        ema.Dispose();
    }
}
