namespace SpectralDiffusion.Worker.Training;

/// <summary>A loss became NaN or infinite; the run stops at that step and earlier checkpoints stay intact.</summary>
public sealed class TrainingDivergedException(long step, string term, double value)
    : Exception($"training diverged at step {step}: {term} is {value}; lower optimizer.learning_rate or set optimizer.grad_clip, and resume from the last checkpoint")
{
    public long Step { get; } = step;
}
