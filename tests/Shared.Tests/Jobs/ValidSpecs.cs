using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Shared.Tests.Jobs;

/// <summary>Specs that pass validation, for tests to break one field at a time.</summary>
public static class ValidSpecs
{
    public static JobSpec Train() => JobSpecDefaults.Apply(new JobSpec
    {
        Name = "teacher",
        Type = JobType.Train,
        Model = new ModelSpec { Preset = "tiny-ldm" },
        Dataset = new DatasetSpec { Procedural = new ProceduralDataset { Seed = 1, Count = 64 }, ImageSize = 32 },
        Schedule = new ScheduleSpec { Steps = 100, BatchSize = 8 },
        WorldSize = 2,
        MaxRestarts = 1,
    });

    public static JobSpec Distill()
    {
        var spec = Train();
        spec.Type = JobType.Distill;
        spec.Model.Preset = "tiny-sd";
        spec.Teacher = new ModelSpec { Preset = "tiny-ldm", Checkpoint = "job:" + Guid.NewGuid() };
        return JobSpecDefaults.Apply(spec);
    }

    public static JobSpec Evaluate()
    {
        var spec = Train();
        spec.Type = JobType.Evaluate;
        spec.Optimizer = null;
        spec.Model.Checkpoint = "artifact:" + new string('a', 64);
        spec.Evaluation = new EvaluationSpec { NumSamples = 16 };
        return JobSpecDefaults.Apply(spec);
    }
}
