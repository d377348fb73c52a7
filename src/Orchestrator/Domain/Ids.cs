namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>Ids on the wire are UUID strings; a malformed one is INVALID_ARGUMENT naming the field.</summary>
public static class Ids
{
    public static Guid Parse(string value, string field) =>
        Guid.TryParse(value, out var id) ? id : throw OrchestratorException.Invalid(field, value.Length == 0 ? "is required" : $"'{Shared.Jobs.Echo.Short(value)}' is not a UUID");

    /// <summary>"artifact:&lt;sha256&gt;" or a bare sha256 → the sha256.</summary>
    public static string ParseArtifact(string value, string field)
    {
        var sha = value.StartsWith(Shared.Jobs.ModelReference.ArtifactPrefix, StringComparison.Ordinal)
            ? value[Shared.Jobs.ModelReference.ArtifactPrefix.Length..] : value;
        return Shared.Jobs.ModelReference.IsSha256(sha) ? sha : throw OrchestratorException.Invalid(field, $"'{Shared.Jobs.Echo.Short(value)}' is not artifact:<64 lower-case hex sha256>");
    }

    public static string Artifact(string sha256) => Shared.Jobs.ModelReference.ArtifactPrefix + sha256;
}
