using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Shared.Jobs;

/// <summary>
/// The defaults of a job spec, in one place. <see cref="Apply"/> fills fields whose zero value (or absence, for
/// <c>optional</c> fields) the proto documents as "use the default"; the server applies it to every submitted spec and
/// the YAML reader to every file, so both paths get the same values. <see cref="YamlTemplate"/> adds the defaults only a
/// YAML file may leave out (world size, batch).
/// </summary>
public static class JobSpecDefaults
{
    public const double LearningRate = 2e-4;
    public const double EmaDecay = 0.9999;
    public const int LogEvery = 10;
    public const int DdimSteps = 200;
    public const double LambdaSpatial = 0.1;
    public const double LambdaFreq = 0.1;
    public const double FrequencyAlpha = 1.0;
    public const int YamlWorldSize = 1;
    public const int YamlBatchSize = 16;
    /// <summary>Restarts after transient failures when <c>max_restarts</c> is unset (raw gRPC and YAML alike).</summary>
    public const int MaxRestarts = 2;

    /// <summary>The starting point of a spec read from YAML: what a file may omit.</summary>
    public static JobSpec YamlTemplate() => new()
    {
        WorldSize = YamlWorldSize,
        Device = DeviceKind.Cpu,
        Schedule = new ScheduleSpec { BatchSize = YamlBatchSize },
    };

    /// <summary>Fills documented "0 = default" fields in place and returns the spec.</summary>
    public static JobSpec Apply(JobSpec spec)
    {
        if (spec.Device == DeviceKind.Unspecified) spec.Device = DeviceKind.Cpu;
        if (!spec.HasMaxRestarts) spec.MaxRestarts = MaxRestarts;
        spec.Schedule ??= new ScheduleSpec();
        if (spec.Schedule.LogEvery == 0) spec.Schedule.LogEvery = LogEvery;
        if (spec.Type is JobType.Train or JobType.Distill)
        {
            spec.Optimizer ??= new OptimizerSpec();
            if (spec.Optimizer.LearningRate == 0) spec.Optimizer.LearningRate = LearningRate;
            if (spec.Optimizer.EmaDecay == 0) spec.Optimizer.EmaDecay = EmaDecay;
        }
        if (spec.Type == JobType.Distill)
        {
            spec.Distillation ??= new DistillationSpec();
            if (!spec.Distillation.HasLambdaSpatial) spec.Distillation.LambdaSpatial = LambdaSpatial;
            if (!spec.Distillation.HasLambdaFreq) spec.Distillation.LambdaFreq = LambdaFreq;
            if (!spec.Distillation.HasAlpha) spec.Distillation.Alpha = FrequencyAlpha;
        }
        if (spec.Evaluation is { } evaluation)
        {
            if (evaluation.DdimSteps == 0) evaluation.DdimSteps = DdimSteps;
            if (evaluation.NumReal == 0) evaluation.NumReal = evaluation.NumSamples;
        }
        return spec;
    }
}
