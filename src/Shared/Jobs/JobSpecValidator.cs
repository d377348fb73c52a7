using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Shared.Jobs;

/// <summary>
/// Checks a job spec field by field, after <see cref="JobSpecDefaults.Apply"/>: everything that can be known before a
/// worker runs it (ranges, presets and the image size they work on, teacher/student agreement, the files it may name).
/// Used by the server (INVALID_ARGUMENT with a BadRequest listing every violation) and by the CLIs before they submit or
/// run. Field paths are proto field names under <c>spec.</c>. <paramref name="paths"/> says which files a spec may name
/// (default: <see cref="SpecPathRules.ClientSide"/>).
/// </summary>
public sealed class JobSpecValidator(int maxWorldSize, SpecPathRules? paths = null)
{
    readonly SpecPathRules pathRules = paths ?? SpecPathRules.ClientSide;

    public const int DefaultMaxWorldSize = 64;
    public const int MaxRestartsLimit = 100;
    public const int MaxNameLength = 200;
    public const int MaxLabels = 64, MaxLabelKeyLength = 63, MaxLabelValueLength = 256;

    // Upper bounds of what the engine can take: beyond them progress, ETA and sampler arithmetic overflow, or a worker
    // would allocate without limit. They are far above any real run (a billion steps, a million images).
    public const long MaxSteps = 1_000_000_000;
    public const int MaxBatchSize = 65_536, MaxTorchThreads = 1_024, MaxImages = 10_000_000;

    public int MaxWorldSize { get; } = maxWorldSize > 0
        ? maxWorldSize
        : throw new ArgumentOutOfRangeException(nameof(maxWorldSize), maxWorldSize, "the largest schedulable world size must be positive");

    public IReadOnlyList<FieldViolation> Validate(JobSpec? spec)
    {
        var violations = new List<FieldViolation>();
        void Fail(string field, string reason) => violations.Add(new FieldViolation("spec." + field, reason));
        if (spec is null)
        {
            violations.Add(new FieldViolation("spec", "a job spec is required"));
            return violations;
        }

        // NUL characters and enum numbers the contract does not define: nothing downstream could store or run them.
        violations.AddRange(ProtoValues.Violations(spec, "spec"));
        if (spec.Name.Length > MaxNameLength) Fail("name", $"is {spec.Name.Length} characters; at most {MaxNameLength}");
        if (spec.Type == JobType.Unspecified) Fail("type", "is required: train, distill or evaluate");
        if (spec.WorldSize < 1) Fail("world_size", $"is {spec.WorldSize}; a job needs at least 1 rank");
        else if (spec.WorldSize > MaxWorldSize)
            Fail("world_size", $"is {spec.WorldSize}; the orchestrator can schedule at most {MaxWorldSize} ranks (Orchestrator:MaxWorldSize)");
        if (spec.MaxRestarts is < 0 or > MaxRestartsLimit) Fail("max_restarts", $"is {spec.MaxRestarts}; must be between 0 and {MaxRestartsLimit}");
        if (spec.TorchThreads is < 0 or > MaxTorchThreads)
            Fail("torch_threads", $"is {spec.TorchThreads}; must be 0 (worker default) or 1 to {MaxTorchThreads}");
        if (spec.Labels.Count > MaxLabels) Fail("labels", $"has {spec.Labels.Count} labels; at most {MaxLabels}");
        foreach (var (key, value) in spec.Labels)
        {
            if (key.Length is 0 or > MaxLabelKeyLength) Fail("labels", $"label key '{Echo.Short(key)}' must be 1 to {MaxLabelKeyLength} characters");
            if (value.Length > MaxLabelValueLength)
                Fail("labels", $"the value of '{Echo.Short(key)}' is {value.Length} characters; at most {MaxLabelValueLength}");
        }

        ValidateModel(spec.Model, "model", Fail);
        ValidateTeacher(spec, Fail);
        ValidateDataset(spec, Fail);
        ValidateSchedule(spec, Fail);
        ValidateOptimizer(spec, Fail);
        ValidateDistillation(spec, Fail);
        ValidateEvaluation(spec, Fail);
        ValidateConditioning(spec, Fail);
        ValidateFirstStage(spec, Fail);
        if (spec.Retention is { HasKeepCheckpoints: true, KeepCheckpoints: < 0 } retention)
            Fail("retention.keep_checkpoints", $"is {retention.KeepCheckpoints}; must be 0 or more");
        ModelConfigRules.Validate(spec, Fail);
        foreach (var (field, path, _) in SpecPathRules.PathFields(spec))
            if (pathRules.Check(path) is { } reason) Fail(field, reason);
        return violations;
    }

    static void ValidateModel(ModelSpec? model, string path, Action<string, string> fail)
    {
        if (model is null)
        {
            fail(path, "is required (a preset, and optionally a checkpoint)");
            return;
        }
        if (model.Preset.Length == 0) fail(path + ".preset", $"is required; known presets: {string.Join(", ", KnownPresets.All)}");
        else if (!KnownPresets.Contains(model.Preset))
            fail(path + ".preset", $"unknown preset '{Echo.Short(model.Preset)}'{Spelling.Hint(model.Preset, KnownPresets.All)}; known presets: {string.Join(", ", KnownPresets.All)}");
        var reference = ModelReference.Parse(model.Checkpoint);
        if (reference.Kind == ModelReferenceKind.Job && !Guid.TryParse(reference.Value, out _))
            fail(path + ".checkpoint", $"'{Echo.Short(model.Checkpoint)}' does not name a job id (expected job:<uuid>)");
        if (reference.Kind == ModelReferenceKind.Artifact && !ModelReference.IsSha256(reference.Value))
            fail(path + ".checkpoint", $"'{Echo.Short(model.Checkpoint)}' is not artifact:<64 lower-case hex sha256>");
    }

    static void ValidateTeacher(JobSpec spec, Action<string, string> fail)
    {
        if (spec.Type == JobType.Distill)
        {
            if (spec.Teacher is null) fail("teacher", "a distill job needs a teacher (preset and checkpoint)");
            else
            {
                ValidateModel(spec.Teacher, "teacher", fail);
                if (spec.Teacher.Checkpoint.Length == 0)
                    fail("teacher.checkpoint", "a frozen teacher needs weights: job:<id>, artifact:<sha256> or a path");
                if (KnownPresets.Contains(spec.Teacher.Preset) && spec.Model is not null && KnownPresets.Contains(spec.Model.Preset)
                    && KnownPresets.DistillationProblem(spec.Teacher.Preset, spec.Model.Preset) is { } problem)
                    fail("teacher.preset", $"cannot teach this student: {problem}");
            }
        }
        else if (spec.Teacher is not null) fail("teacher", "only distill jobs have a teacher");
    }

    static void ValidateDataset(JobSpec spec, Action<string, string> fail)
    {
        var dataset = spec.Dataset;
        if (dataset is null || dataset.SourceCase == DatasetSpec.SourceOneofCase.None)
        {
            fail("dataset", "is required: procedural {seed, count} or image_folder {path}");
            return;
        }
        var factor = spec.FirstStage is { } firstStage && KnownFirstStages.Contains(firstStage.Config) ? KnownFirstStages.Shape(firstStage.Config).Factor : 1;
        if (dataset.ImageSize < 0) fail("dataset.image_size", $"is {dataset.ImageSize}; must be 0 (the preset's size) or positive");
        else if (dataset.ImageSize > 0 && spec.Model is not null && KnownPresets.Contains(spec.Model.Preset)
                 && KnownPresets.Shape(spec.Model.Preset).ImageSize * factor is var size && dataset.ImageSize != size)
            fail("dataset.image_size", $"is {dataset.ImageSize}; preset '{spec.Model.Preset}' works on {size}×{size} images" +
                 (factor > 1 ? $" ({size / factor}×{size / factor} latents of first stage '{spec.FirstStage!.Config}')" : "") +
                 $" (set {size}, or 0 for the preset's size)");
        if (dataset.Procedural is { } procedural && procedural.Count is <= 0 or > MaxImages)
            fail("dataset.procedural.count", $"is {procedural.Count}; must be 1 to {MaxImages}");
        else if (dataset.Procedural is { } known && spec.Type is JobType.Train or JobType.Distill && spec.Schedule is { BatchSize: > 0 } schedule
                 && (long)schedule.BatchSize * Math.Max(spec.WorldSize, 1) > known.Count)
            fail("schedule.batch_size", $"is {schedule.BatchSize} per rank × {spec.WorldSize} ranks; the procedural dataset has only {known.Count} images " +
                 "(one global batch must fit in the dataset)");
        if (dataset.ImageFolder is { } folder && string.IsNullOrWhiteSpace(folder.Path))
            fail("dataset.image_folder.path", "is required (a folder every worker can read)");
        if (spec.Model is not null && KnownPresets.Contains(spec.Model.Preset) && KnownPresets.Shape(spec.Model.Preset).TextContextDim is > 0 and var width
            && dataset.ImageFolder is not { CaptionEmbeddings.Length: > 0 })
            fail("dataset.image_folder.caption_embeddings", $"preset '{spec.Model.Preset}' is text-conditional: pair every image with an (L, {width}) " +
                 "caption embedding (an image_folder with caption_embeddings; docs/text-conditioning.md)");
    }

    static void ValidateConditioning(JobSpec spec, Action<string, string> fail)
    {
        if (spec.Conditioning is not { } conditioning) return;
        if (conditioning.HasDropout && !(conditioning.Dropout is >= 0 and <= 1))
            fail("conditioning.dropout", $"is {conditioning.Dropout}; must be between 0 and 1");
        var text = spec.Model is not null && KnownPresets.Contains(spec.Model.Preset) && KnownPresets.Shape(spec.Model.Preset).TextContextDim > 0;
        if (!text && spec.Model is not null && KnownPresets.Contains(spec.Model.Preset))
        {
            if (conditioning.NullContext.Length > 0) fail("conditioning.null_context", $"preset '{spec.Model.Preset}' reads no captions; a null context is for text presets");
            if (conditioning.Context.Length > 0) fail("conditioning.context", $"preset '{spec.Model.Preset}' reads no captions; a sampling context is for text presets");
        }
    }

    static void ValidateSchedule(JobSpec spec, Action<string, string> fail)
    {
        var schedule = spec.Schedule ?? new ScheduleSpec();
        var trains = spec.Type is JobType.Train or JobType.Distill;
        if (schedule.Steps < 0) fail("schedule.steps", $"is {schedule.Steps}; must not be negative");
        else if (trains && schedule.Steps == 0) fail("schedule.steps", "is 0; a train or distill job needs a positive number of steps");
        else if (schedule.Steps > MaxSteps) fail("schedule.steps", $"is {schedule.Steps}; at most {MaxSteps}");
        if (schedule.BatchSize < 0) fail("schedule.batch_size", $"is {schedule.BatchSize}; must not be negative");
        else if (trains && schedule.BatchSize == 0) fail("schedule.batch_size", "is 0; must be positive");
        else if (schedule.BatchSize > MaxBatchSize) fail("schedule.batch_size", $"is {schedule.BatchSize}; at most {MaxBatchSize} per rank");
        if (trains && spec.Optimizer is { WarmupSteps: > 0 } optimizer && schedule.Steps > 0 && optimizer.WarmupSteps > schedule.Steps)
            fail("optimizer.warmup_steps", $"is {optimizer.WarmupSteps}; must not exceed schedule.steps ({schedule.Steps})");
        if (schedule.LogEvery < 0) fail("schedule.log_every", $"is {schedule.LogEvery}; must be positive");
        if (schedule.CheckpointEvery < 0) fail("schedule.checkpoint_every", $"is {schedule.CheckpointEvery}; must be 0 (only at the end) or positive");
    }

    static void ValidateOptimizer(JobSpec spec, Action<string, string> fail)
    {
        if (spec.Optimizer is not { } optimizer) return;
        if (!(optimizer.LearningRate > 0) || !double.IsFinite(optimizer.LearningRate))
            fail("optimizer.learning_rate", $"is {optimizer.LearningRate}; must be a positive number");
        if (!(optimizer.WeightDecay >= 0)) fail("optimizer.weight_decay", $"is {optimizer.WeightDecay}; must not be negative");
        if (optimizer.WarmupSteps < 0) fail("optimizer.warmup_steps", $"is {optimizer.WarmupSteps}; must not be negative");
        if (!(optimizer.MinLrRatio is >= 0 and <= 1)) fail("optimizer.min_lr_ratio", $"is {optimizer.MinLrRatio}; must be between 0 and 1");
        if (!(optimizer.GradClip >= 0)) fail("optimizer.grad_clip", $"is {optimizer.GradClip}; must be 0 (off) or positive");
        if (!(optimizer.EmaDecay is > 0 and < 1)) fail("optimizer.ema_decay", $"is {optimizer.EmaDecay}; must be in (0, 1)");
    }

    static void ValidateDistillation(JobSpec spec, Action<string, string> fail)
    {
        if (spec.Distillation is not { } distillation) return;
        if (spec.Type != JobType.Distill)
        {
            fail("distillation", "only distill jobs take distillation settings");
            return;
        }
        if (distillation.HasLambdaSpatial && !(distillation.LambdaSpatial >= 0)) fail("distillation.lambda_spatial", $"is {distillation.LambdaSpatial}; must not be negative");
        if (distillation.HasLambdaFreq && !(distillation.LambdaFreq >= 0)) fail("distillation.lambda_freq", $"is {distillation.LambdaFreq}; must not be negative");
        if (distillation.HasAlpha && !(distillation.Alpha >= 0)) fail("distillation.alpha", $"is {distillation.Alpha}; must not be negative");
        if (distillation.DisableDdpm && distillation.DisableSpatial && distillation.DisableFreq)
            fail("distillation", "every loss term is disabled; nothing would be trained");
        foreach (var tap in distillation.FeatureTaps.Where(string.IsNullOrWhiteSpace))
            fail("distillation.feature_taps", "contains an empty module name");
    }

    static void ValidateEvaluation(JobSpec spec, Action<string, string> fail)
    {
        if (spec.Evaluation is not { } evaluation)
        {
            if (spec.Type == JobType.Evaluate) fail("evaluation", "an evaluate job needs evaluation settings (num_samples, ...)");
            return;
        }
        if (evaluation.NumSamples is <= 0 or > MaxImages) fail("evaluation.num_samples", $"is {evaluation.NumSamples}; must be 1 to {MaxImages}");
        if (DdimTimesteps.Problem(DdimTimesteps.TrainingTimesteps, evaluation.DdimSteps) is { } ddimProblem)
            fail("evaluation.ddim_steps", $"is {evaluation.DdimSteps}; {ddimProblem}");
        if (!(evaluation.Eta >= 0)) fail("evaluation.eta", $"is {evaluation.Eta}; must not be negative");
        if (evaluation.HasGuidanceScale && !(evaluation.GuidanceScale >= 0)) fail("evaluation.guidance_scale", $"is {evaluation.GuidanceScale}; must not be negative");
        if (evaluation.NumReal is < 0 or > MaxImages) fail("evaluation.num_real", $"is {evaluation.NumReal}; must be 0 (num_samples) to {MaxImages}");
        if (spec.Type == JobType.Evaluate && spec.Model is { Checkpoint.Length: 0 })
            fail("model.checkpoint", "an evaluate job needs weights: job:<id>, artifact:<sha256> or a path");
    }

    /// <summary>The first stage of a latent job: a known config whose latents fit the UNet, a checkpoint path, a usable scale factor.</summary>
    static void ValidateFirstStage(JobSpec spec, Action<string, string> fail)
    {
        if (spec.FirstStage is not { } firstStage) return;
        if (firstStage.Config.Length == 0) fail("first_stage.config", $"is required; known configs: {string.Join(", ", KnownFirstStages.All)}");
        else if (!KnownFirstStages.Contains(firstStage.Config))
            fail("first_stage.config", $"unknown first-stage config '{Echo.Short(firstStage.Config)}'{Spelling.Hint(firstStage.Config, KnownFirstStages.All)}; known configs: {string.Join(", ", KnownFirstStages.All)}");
        else
            foreach (var (model, field) in new[] { (spec.Model, "model.preset"), (spec.Teacher, "teacher.preset") })
                if (model is not null && KnownPresets.Contains(model.Preset)
                    && KnownPresets.Shape(model.Preset).Channels is var channels && channels != KnownFirstStages.Shape(firstStage.Config).LatentChannels)
                    fail(field, $"preset '{model.Preset}' takes {channels}-channel inputs (in_channels) but first stage '{firstStage.Config}' gives " +
                                $"{KnownFirstStages.Shape(firstStage.Config).LatentChannels}-channel latents");
        if (firstStage.Checkpoint.Length == 0)
            fail("first_stage.checkpoint", "is required: a first-stage checkpoint or a full LDM checkpoint (first_stage_model.*) the workers can read");
        else if (ModelReference.Parse(firstStage.Checkpoint).Kind != ModelReferenceKind.Path)
            fail("first_stage.checkpoint", $"'{Echo.Short(firstStage.Checkpoint)}' must be a path the workers can read (job: and artifact: references are for UNet checkpoints)");
        if (firstStage.HasScaleFactor && !(firstStage.ScaleFactor > 0 && double.IsFinite(firstStage.ScaleFactor)))
            fail("first_stage.scale_factor", $"is {firstStage.ScaleFactor}; must be a positive finite number (or unset: the model config's, else the checkpoint's)");
    }
}
