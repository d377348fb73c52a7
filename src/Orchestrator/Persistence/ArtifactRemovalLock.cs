using Npgsql;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>
/// A PostgreSQL advisory lock between recording an artifact and removing one. Retention holds it exclusively from
/// deleting rows until their files are gone; an upload holds it shared while it records its row, and checks that its file
/// is still there. So a row is never written for content a concurrent pass is removing.
/// </summary>
public static class ArtifactRemovalLock
{
    /// <summary>The lock's key: "sd-artifact-gc" read as ASCII, arbitrary but fixed.</summary>
    const long Key = 0x73642D6763;

    /// <summary>Held by the caller's transaction until it ends.</summary>
    public static Task ShareAsync(NpgsqlConnection connection, CancellationToken cancellation) =>
        connection.ExecuteAsync("SELECT pg_advisory_xact_lock_shared(@key)", cancellation, ("key", Key));

    /// <summary>Held by the connection's session until <see cref="ReleaseAsync"/> or the connection closes.</summary>
    public static Task TakeAsync(NpgsqlConnection connection, CancellationToken cancellation) =>
        connection.ExecuteAsync("SELECT pg_advisory_lock(@key)", cancellation, ("key", Key));

    public static Task ReleaseAsync(NpgsqlConnection connection, CancellationToken cancellation) =>
        connection.ExecuteAsync("SELECT pg_advisory_unlock(@key)", cancellation, ("key", Key));
}
