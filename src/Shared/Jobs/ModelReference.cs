namespace SpectralDiffusion.Shared.Jobs;

/// <summary>
/// What <c>ModelSpec.checkpoint</c> names: nothing, another job's final model (<c>job:&lt;id&gt;</c>),
/// a stored artifact (<c>artifact:&lt;sha256&gt;</c>) or a path the workers can read.
/// </summary>
public sealed record ModelReference(ModelReferenceKind Kind, string Value)
{
    public const string JobPrefix = "job:";
    public const string ArtifactPrefix = "artifact:";

    public static ModelReference Parse(string checkpoint) => checkpoint switch
    {
        "" => new(ModelReferenceKind.None, ""),
        _ when checkpoint.StartsWith(JobPrefix, StringComparison.Ordinal) => new(ModelReferenceKind.Job, checkpoint[JobPrefix.Length..]),
        _ when checkpoint.StartsWith(ArtifactPrefix, StringComparison.Ordinal) => new(ModelReferenceKind.Artifact, checkpoint[ArtifactPrefix.Length..]),
        _ => new(ModelReferenceKind.Path, checkpoint),
    };

    /// <summary>A lower-case hex SHA-256 (64 characters).</summary>
    public static bool IsSha256(string value) =>
        value.Length == 64 && value.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');
}

public enum ModelReferenceKind { None, Job, Artifact, Path }
