using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Worker.Diffusion;
using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>
/// One rank of a <c>train</c> (teacher or baseline, plain DDPM loss) or <c>distill</c> (SD student, spectrum-aware
/// distillation) job: builds the models, joins the data-parallel group, resumes from the newest checkpoint, trains,
/// writes sharded checkpoints, publishes the EMA model and, when the spec asks, evaluates it.
/// </summary>
public static class TrainingJob
{
    public static void Run(JobSpec spec, IJobHost host)
    {
        var seed = spec.Schedule.Seed;
        var scheduleSettings = JobRecipes.Schedule(spec);
        var schedule = NoiseSchedule.From(scheduleSettings);
        host.Log.Information("Diffusion schedule: {Schedule}", scheduleSettings);
        using var model = ModelLoader.Load(spec.Model, host.WeightsPath(ModelRole.Model), seed);
        using var teacher = spec.Type == JobType.Distill ? LoadTeacher(spec, host) : null;
        using var latentSpace = FirstStageLoader.Load(spec.FirstStage, host.Log, JobRecipes.For(spec.Type == JobType.Distill ? spec.Teacher : spec.Model));
        latentSpace?.RequireFits(model.Config, "model.preset");
        if (host.Rank == 0) host.PublishRunSettings(ResolvedRunSettings.Of(spec, latentSpace));
        var phases = new StepPhases();
        using var objective = CreateObjective(spec, model, teacher, schedule, phases);
        using var dataParallel = host.Collective is { } collective ? DataParallel(spec, collective, host) : null;
        var options = Options(spec, host) with { ConditionDropout = ConditioningInputs.Dropout(spec, model.Config) };
        using var suppliedNullContext = ConditioningInputs.NullContext(spec, model.Config);
        using var trainer = new DiffusionTrainer(objective, schedule, options, dataParallel is null ? null : dataParallel.SynchronizeGradients,
            batch => model.Unconditional(batch, suppliedNullContext), phases);

        var resume = host.ResumeState();
        if (resume is not null)
        {
            trainer.RestoreState(resume);
            host.Log.Information("Resumed from the checkpoint at step {Step} of {Steps}", resume.Step, options.Steps);
        }
        else if (dataParallel is not null)
        {
            // Every rank starts from rank 0's initialisation.
            dataParallel.BroadcastTensors(objective.StateTensors().Select(t => t.Tensor));
            dataParallel.BroadcastTensors(trainer.Ema.Shadows.Select(s => s.Shadow));
        }
        host.Log.Information("Training {Type} {Preset}: {Steps} steps, batch {Batch} per rank x {World} ranks = {Effective}, lr {LearningRate}, {TorchThreads} torch threads",
            spec.Type, spec.Model.Preset, options.Steps, options.BatchSize, options.WorldSize, options.BatchSize * options.WorldSize, options.LearningRate, get_num_threads());

        var imageSize = latentSpace?.ImageSize(model.Config.ImageSize) ?? model.Config.ImageSize;
        var dataset = DatasetFactory.Create(spec.Dataset, imageSize, model.Config.NumClasses ?? 0, host.Log, ConditioningInputs.TextContextDim(model.Config));
        var observer = new HostTrainingObserver(host, spec);
        using (var batches = LatentJobs.Batches(spec, dataset, latentSpace, options, trainer.Step, host, model.Config))
            trainer.Run(batches, observer, host.Cancellation);
        host.Log.Information("Rank {Rank}/{World} step phases (ms/step): {Phases}", host.Rank, host.WorldSize, phases.Describe());
        if (host.Cancellation.IsCancellationRequested) return;
        if (host.Rank == 0 && observer.PlotLosses(Path.Combine(host.WorkDirectory, "losses.png")) is { } lossPlot)
            host.PublishFile(lossPlot);

        using var averaged = ExportAveraged(model, trainer.Ema);
        RequireFiniteWeights(averaged);
        if (host.Rank == 0)
        {
            var path = Path.Combine(host.WorkDirectory, "model-ema.safetensors");
            UNetCheckpoint.Save(averaged, path, spec.Model.Preset);
            host.PublishModel(path);
        }
        if (spec.Evaluation is { NumSamples: > 0 })
            EvaluationJob.Evaluate(spec, averaged, dataset, host, suppliedNullContext, latentSpace);
    }

    /// <summary>The gradient synchroniser with the spec's overlap mode; each rank logs what auto chooses (all choose alike).</summary>
    static GradientSynchronizer DataParallel(JobSpec spec, ICollective collective, IJobHost host)
    {
        var overlap = spec.GradientOverlap switch
        {
            Shared.Contracts.V1.GradientOverlap.Off => Distributed.GradientOverlap.Off,
            Shared.Contracts.V1.GradientOverlap.On => Distributed.GradientOverlap.On,
            _ => Distributed.GradientOverlap.Auto,
        };
        var synchronizer = new GradientSynchronizer(collective, new GradientSynchronizerOptions { Overlap = overlap });
        synchronizer.OverlapChosen += choice =>
            host.Log.Information("Gradient overlap: {Overlap} ({Measurement})", choice.Mode, choice.Measurement);
        return synchronizer;
    }

    static UNetModel LoadTeacher(JobSpec spec, IJobHost host)
    {
        var path = host.WeightsPath(ModelRole.Teacher)
                   ?? throw new ArgumentException("teacher.checkpoint: a distill job needs trained teacher weights (job:<id>, artifact:<sha256> or a path)");
        var teacher = ModelLoader.Load(spec.Teacher, path, spec.Schedule.Seed);
        if (host.Collective is { } collective)
            ModuleStateHash.VerifyIdenticalAcrossRanks(collective, ModuleStateHash.Compute(teacher), $"teacher ({path})");
        return teacher;
    }

    static ITrainingObjective CreateObjective(JobSpec spec, UNetModel model, UNetModel? teacher, NoiseSchedule schedule, StepPhases phases)
    {
        if (teacher is null) return new DdpmObjective(model, schedule);
        var distillation = spec.Distillation ?? new DistillationSpec();
        var weights = new DistillationWeights
        {
            LambdaSpatial = distillation.HasLambdaSpatial ? distillation.LambdaSpatial : JobSpecDefaults.LambdaSpatial,
            LambdaFrequency = distillation.HasLambdaFreq ? distillation.LambdaFreq : JobSpecDefaults.LambdaFreq,
            Alpha = distillation.HasAlpha ? distillation.Alpha : JobSpecDefaults.FrequencyAlpha,
            UseDdpm = !distillation.DisableDdpm,
            UseSpatial = !distillation.DisableSpatial,
            UseFrequency = !distillation.DisableFreq,
        };
        var taps = distillation.FeatureTaps.Count > 0 ? distillation.FeatureTaps.ToList() : null;
        return new DistillationObjective(teacher, model, new SpectralDistillationLoss(weights), schedule, taps, phases);
    }

    public static TrainerOptions Options(JobSpec spec, IJobHost host)
    {
        var optimizer = spec.Optimizer ?? new OptimizerSpec();
        return new TrainerOptions
        {
            Steps = spec.Schedule.Steps,
            BatchSize = spec.Schedule.BatchSize,
            Seed = spec.Schedule.Seed,
            Rank = host.Rank,
            WorldSize = host.WorldSize,
            LogEvery = Math.Max(1, spec.Schedule.LogEvery),
            CheckpointEvery = spec.Schedule.CheckpointEvery,
            LearningRate = optimizer.LearningRate > 0 ? optimizer.LearningRate : JobSpecDefaults.LearningRate,
            WeightDecay = optimizer.WeightDecay,
            WarmupSteps = optimizer.WarmupSteps,
            MinLrRatio = optimizer.MinLrRatio,
            GradClip = optimizer.GradClip,
            EmaDecay = optimizer.EmaDecay > 0 ? optimizer.EmaDecay : JobSpecDefaults.EmaDecay,
        };
    }

    /// <summary>Never publishes NaN weights: the trainer stops before a NaN reaches them, so one here is a fault to report.</summary>
    static void RequireFiniteWeights(UNetModel averaged)
    {
        foreach (var (name, parameter) in averaged.named_parameters())
            if (!parameter.isfinite().all().item<bool>())
                throw new InvalidDataException($"the EMA weights hold NaN or infinite values (first: {name}); the model was not exported");
    }

    /// <summary>A copy of the trained architecture carrying the EMA weights: what is published and evaluated.</summary>
    static UNetModel ExportAveraged(UNetModel model, ExponentialMovingAverage ema)
    {
        var copy = new UNetModel(model.Config);
        copy.load_state_dict(model.state_dict());
        ema.CopyTo(copy);
        copy.eval();
        return copy;
    }
}
