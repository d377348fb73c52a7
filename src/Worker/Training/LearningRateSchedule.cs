namespace SpectralDiffusion.Worker.Training;

/// <summary>Linear warm-up from 0 to the base rate, then linear decay to <c>minRatio · base</c> at the last step.</summary>
public sealed record LearningRateSchedule(double BaseRate, long TotalSteps, long WarmupSteps = 0, double MinRatio = 0.0)
{
    public void Validate()
    {
        if (!(BaseRate > 0)) throw new ArgumentException($"optimizer.learning_rate must be > 0 (got {BaseRate})");
        if (TotalSteps < 1) throw new ArgumentException($"schedule.steps must be >= 1 (got {TotalSteps})");
        if (WarmupSteps < 0 || WarmupSteps > TotalSteps) throw new ArgumentException($"optimizer.warmup_steps must be in [0, steps] (got {WarmupSteps})");
        if (MinRatio is < 0 or > 1) throw new ArgumentException($"optimizer.min_lr_ratio must be in [0, 1] (got {MinRatio})");
    }

    /// <summary>The rate for optimiser step <paramref name="step"/> (0-based).</summary>
    public double RateAt(long step)
    {
        if (step < WarmupSteps) return BaseRate * (step + 1) / WarmupSteps;
        var decaySteps = Math.Max(1, TotalSteps - WarmupSteps - 1);
        var progress = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0.0, 1.0);
        return BaseRate * (1.0 - progress * (1.0 - MinRatio));
    }
}
