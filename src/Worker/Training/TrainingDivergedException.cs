namespace SpectralDiffusion.Worker.Training;

/// <summary>
/// A loss or the gradient became NaN or infinite; the run stops at that step, before the optimiser touches the
/// parameters, so the model, its EMA and earlier checkpoints stay intact.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    TrainingDivergedException(long step, string message) : base(message) => Step = step;

    public long Step { get; }

    /// <summary>A loss term is not finite (the forward pass diverged).</summary>
    public static TrainingDivergedException Loss(long step, string term, double value) => new(step,
        $"training diverged at step {step}: {term} is {value}; lower optimizer.learning_rate or set optimizer.grad_clip, and resume from the last checkpoint");

    /// <summary>The losses were finite but the gradient is not (a backward kernel produced NaN or infinity).</summary>
    public static TrainingDivergedException Gradient(long step, double norm, string firstParameter) => new(step,
        $"training diverged at step {step}: the losses are finite but the gradient norm is {norm} (first non-finite gradient: {firstParameter}); " +
        "the parameters were not updated. A finite loss with a non-finite gradient points at a backward kernel, not at the learning rate: " +
        "see docs/numerics.md");
}
