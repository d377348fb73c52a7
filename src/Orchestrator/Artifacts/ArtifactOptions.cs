namespace SpectralDiffusion.Orchestrator.Artifacts;

/// <summary>Where artifact contents are kept: key <c>Orchestrator:ArtifactRoot</c>.</summary>
public sealed class ArtifactOptions
{
    public const string DefaultArtifactRoot = ".local/artifacts";

    /// <summary>Folder of the content-addressed artifact store.</summary>
    public string ArtifactRoot { get; set; } = DefaultArtifactRoot;

    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(ArtifactRoot)) yield return "Orchestrator:ArtifactRoot is empty";
    }
}
