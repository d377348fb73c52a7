using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>The rule every job host applies to a checkpoint the spec names as a file path.</summary>
public static class CheckpointPaths
{
    /// <summary>The spec field of <paramref name="role"/> (<c>model</c> or <c>teacher</c>) and the checkpoint it names ("" for none).</summary>
    public static (string Field, string Checkpoint) Of(JobSpec spec, ModelRole role) =>
        role == ModelRole.Teacher ? ("teacher", spec.Teacher?.Checkpoint ?? "") : ("model", spec.Model?.Checkpoint ?? "");

    /// <summary>The existing local file the role's checkpoint names; null when it names none.</summary>
    /// <param name="notAPath">the error for a reference the host cannot open itself (field, checkpoint).</param>
    /// <param name="where">appended to the missing-file message, e.g. " on worker w1".</param>
    public static string? LocalFile(JobSpec spec, ModelRole role, Func<string, string, Exception> notAPath, string where = "")
    {
        var (field, checkpoint) = Of(spec, role);
        if (checkpoint.Length == 0) return null;
        var reference = ModelReference.Parse(checkpoint);
        if (reference.Kind != ModelReferenceKind.Path) throw notAPath(field, checkpoint);
        if (!File.Exists(reference.Value))
            throw new FileNotFoundException($"{field}.checkpoint: {reference.Value} does not exist{where}", reference.Value);
        return reference.Value;
    }
}
