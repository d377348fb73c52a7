namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>Where the orchestrator keeps its state: key <c>Orchestrator:Database</c>.</summary>
public sealed class DatabaseOptions
{
    public const string DefaultDatabase = "Host=127.0.0.1;Port=55432;Username=postgres;Database=spectral";

    /// <summary>Npgsql connection string of the orchestrator's database (created if missing, migrated at start-up).</summary>
    public string Database { get; set; } = DefaultDatabase;

    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(Database)) yield return "Orchestrator:Database (connection string) is empty";
    }
}
