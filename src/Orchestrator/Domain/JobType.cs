namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>What a job does: train a teacher or baseline, distil a student from a teacher, or evaluate a model.</summary>
public enum JobType
{
    Train = 1,
    Distill = 2,
    Evaluate = 3,
}
