namespace SpectralDiffusion.Worker.Training;

/// <summary>Every knob of a training run in one place (nanoGPT style). Sizes are per rank; the effective batch is BatchSize × WorldSize.</summary>
public sealed record TrainerOptions
{
    public required long Steps { get; init; }
    public required int BatchSize { get; init; }
    public long Seed { get; init; }
    public int Rank { get; init; }
    public int WorldSize { get; init; } = 1;
    public int LogEvery { get; init; } = 10;
    /// <summary>Write a checkpoint every K steps; 0 writes only the final one.</summary>
    public long CheckpointEvery { get; init; }
    public double LearningRate { get; init; } = 2e-4;
    public double WeightDecay { get; init; }
    public long WarmupSteps { get; init; }
    public double MinLrRatio { get; init; }
    /// <summary>Maximum global gradient norm; 0 disables clipping.</summary>
    public double GradClip { get; init; } = 1.0;
    public double EmaDecay { get; init; } = 0.9999;
    /// <summary>Probability of replacing a class label by the null class, or a caption by the null context (trains
    /// classifier-free guidance); conditional models only.</summary>
    public double ConditionDropout { get; init; } = 0.1;

    public void Validate()
    {
        if (Steps < 1) throw new ArgumentException($"schedule.steps must be >= 1 (got {Steps})");
        if (BatchSize < 1) throw new ArgumentException($"schedule.batch_size must be >= 1 (got {BatchSize})");
        if (WorldSize < 1 || Rank < 0 || Rank >= WorldSize) throw new ArgumentException($"rank {Rank} is not in [0, world_size {WorldSize})");
        if (LogEvery < 1) throw new ArgumentException($"schedule.log_every must be >= 1 (got {LogEvery})");
        if (CheckpointEvery < 0) throw new ArgumentException($"schedule.checkpoint_every must be >= 0 (got {CheckpointEvery})");
        if (WeightDecay < 0) throw new ArgumentException($"optimizer.weight_decay must be >= 0 (got {WeightDecay})");
        if (GradClip < 0) throw new ArgumentException($"optimizer.grad_clip must be >= 0 (got {GradClip})");
        if (EmaDecay is < 0 or > 1) throw new ArgumentException($"optimizer.ema_decay must be in [0, 1] (got {EmaDecay})");
        if (ConditionDropout is < 0 or > 1) throw new ArgumentException($"conditioning.dropout must be in [0, 1] (got {ConditionDropout})");
        Schedule.Validate();
    }

    public LearningRateSchedule Schedule => new(LearningRate, Steps, WarmupSteps, MinLrRatio);
}
