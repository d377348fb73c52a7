using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Shared.Jobs;

/// <summary>
/// The checks on <c>config</c> (a CompVis YAML) and <c>gate_init</c> of a spec's models, and the rule that a student
/// is distilled on its teacher's schedule. A YAML's contents are checked by the worker that reads it; here only what the
/// spec itself says.
/// </summary>
public static class ModelConfigRules
{
    public static void Validate(JobSpec spec, Action<string, string> fail)
    {
        foreach (var (model, path) in new[] { (spec.Model, "model"), (spec.Teacher, "teacher") })
        {
            if (model is null) continue;
            if (model.Config.Length > 0 && !(model.Config.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || model.Config.EndsWith(".yml", StringComparison.OrdinalIgnoreCase)))
                fail(path + ".config", $"'{Echo.Short(model.Config)}' is not a CompVis config YAML (a .yaml file the workers can read)");
            if (model.GateInit.Length > 0 && !PresetSchedules.GateInits.Contains(model.GateInit))
                fail(path + ".gate_init", $"'{Echo.Short(model.GateInit)}' is unknown; use {string.Join(" or ", PresetSchedules.GateInits)}");
        }
        if (spec.Type == JobType.Distill && spec.Teacher is { Config.Length: 0 } teacher && spec.Model is { Config.Length: 0 } student
            && KnownPresets.Contains(teacher.Preset) && KnownPresets.Contains(student.Preset)
            && (PresetSchedules.Of(teacher.Preset), PresetSchedules.Of(student.Preset)) is var (taught, own) && taught != own)
            fail("model.preset", $"preset '{student.Preset}' is sampled with {own} but its teacher '{teacher.Preset}' was trained with {taught}; " +
                 "a student is distilled and sampled on its teacher's schedule (pick a student of the teacher's family, or give model.config)");
    }
}
