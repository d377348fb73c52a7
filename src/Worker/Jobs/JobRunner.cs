using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>Runs one rank of any job type inside a host.</summary>
public static class JobRunner
{
    public static void Run(JobSpec spec, IJobHost host)
    {
        switch (spec.Type)
        {
            case JobType.Train:
            case JobType.Distill:
                TrainingJob.Run(spec, host);
                break;
            case JobType.Evaluate:
                EvaluationJob.Run(spec, host);
                break;
            default:
                throw new ArgumentException($"type: '{spec.Type}' is not a job type (train, distill, evaluate)");
        }
    }
}
