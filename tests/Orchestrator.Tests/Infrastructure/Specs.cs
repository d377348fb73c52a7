using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests;

/// <summary>Small valid job specs for tests.</summary>
public static class Specs
{
    public static JobSpec Train(int worldSize = 2, int maxRestarts = 0, int priority = 0, string name = "tiny-teacher") => new()
    {
        Name = name,
        Type = JobType.Train,
        Model = new ModelSpec { Preset = "tiny-ldm" },
        Dataset = new DatasetSpec { Procedural = new ProceduralDataset { Seed = 1, Count = 32 }, ImageSize = 32 },
        Schedule = new ScheduleSpec { Steps = 40, BatchSize = 4, CheckpointEvery = 10 },
        WorldSize = worldSize,
        MaxRestarts = maxRestarts,
        Priority = priority,
        Device = DeviceKind.Cpu,
        Labels = { ["suite"] = "orchestrator-tests" },
    };
}
