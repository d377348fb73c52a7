using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;
using static TorchSharp.torch;

namespace SpectralDiffusion.EndToEnd.Tests.Infrastructure;

/// <summary>Job specs small enough for seconds of CPU per rank.</summary>
public static class TinySpecs
{
    public static JobSpec Train(string preset, int steps, int batch, int world, long checkpointEvery = 0) => new()
    {
        Name = $"e2e-train-{preset}",
        Type = JobType.Train,
        Model = new ModelSpec { Preset = preset },
        Dataset = new DatasetSpec { Procedural = new ProceduralDataset { Seed = 3, Count = 64 }, ImageSize = 32 },
        Schedule = new ScheduleSpec { Steps = steps, BatchSize = batch, Seed = 5, LogEvery = 1, CheckpointEvery = checkpointEvery },
        Optimizer = new OptimizerSpec { LearningRate = 1e-3, GradClip = 1.0, EmaDecay = 0.999 },
        WorldSize = world,
        Device = DeviceKind.Cpu,
        MaxRestarts = 2,
    };

    public static JobSpec Distill(string teacherCheckpoint, int steps, int batch, int world, long checkpointEvery = 0)
    {
        var spec = Train("tiny-sd", steps, batch, world, checkpointEvery);
        spec.Name = "e2e-distill";
        spec.Type = JobType.Distill;
        spec.Teacher = new ModelSpec { Preset = "tiny-ldm", Checkpoint = teacherCheckpoint };
        spec.Distillation = new DistillationSpec();
        return spec;
    }

    /// <summary>A randomly initialised tiny teacher written in our model format (tests need a teacher file, not a trained one).</summary>
    public static string WriteTeacher(string folder)
    {
        Worker.Torch.TorchRuntime.EnsureLoaded();
        manual_seed(123);
        using var teacher = new UNetModel(UNetPresets.TinyLdm());
        var path = Path.Combine(folder, "teacher.safetensors");
        UNetCheckpoint.Save(teacher, path, "tiny-ldm");
        return path;
    }

    /// <summary>The first stage's file name under the workers' data root, as <see cref="WriteTinyKl"/> writes it.</summary>
    public const string TinyKlFile = "first-stage.safetensors";

    /// <summary>A randomly initialised tiny-kl first stage under <paramref name="root"/> (the workers' data root) whose
    /// checkpoint records <paramref name="scaleFactor"/>.</summary>
    public static void WriteTinyKl(string root, double scaleFactor, int seed)
    {
        Worker.Torch.TorchRuntime.EnsureLoaded();
        manual_seed(seed);
        using var firstStage = new Autoencoder(AutoencoderPresets.TinyKl());
        FirstStageCheckpoint.Save(firstStage, Path.Combine(root, TinyKlFile), "tiny-kl", scaleFactor);
    }

    /// <summary>The spec made a latent job in the tiny-kl space of <see cref="WriteTinyKl"/>, on 64-pixel images.</summary>
    public static JobSpec Latent(JobSpec spec)
    {
        spec.FirstStage = new FirstStageSpec { Config = "tiny-kl", Checkpoint = TinyKlFile };
        spec.Dataset.ImageSize = 64;
        return spec;
    }
}
