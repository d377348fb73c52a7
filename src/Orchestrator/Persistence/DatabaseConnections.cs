using Npgsql;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>
/// The orchestrator's connection pool. Its statements are few and run over and over (a submit, a batch of heartbeats, a
/// scheduling round), so Npgsql prepares the ones used twice and later sends only their name and parameters; a
/// connection string that sets <c>Max Auto Prepare</c> itself is left as it is.
/// </summary>
public static class DatabaseConnections
{
    public const int AutoPreparedStatements = 64;

    public static NpgsqlDataSource Create(string connectionString)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase)
            && !connectionString.Contains("AutoPrepare", StringComparison.OrdinalIgnoreCase))
            settings.MaxAutoPrepare = AutoPreparedStatements;
        return NpgsqlDataSource.Create(settings.ConnectionString);
    }
}
