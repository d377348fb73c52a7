using Npgsql;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>The artifacts table: one row per content hash stored under the artifact root.</summary>
public static class ArtifactRepository
{
    public sealed record ArtifactRow(string Sha256, long Size, string Kind, string Name);

    public static Task InsertAsync(NpgsqlConnection connection, ArtifactRow artifact, Guid? jobId, CancellationToken cancellation) =>
        connection.ExecuteAsync("""
            INSERT INTO artifacts (sha256, size, kind, name, job_id) VALUES (@sha, @size, @kind, @name, @job)
            ON CONFLICT (sha256) DO NOTHING
            """, cancellation, ("sha", artifact.Sha256), ("size", artifact.Size), ("kind", artifact.Kind), ("name", artifact.Name),
            ("job", jobId.HasValue ? jobId.Value : DBNull.Value));

    public static Task<ArtifactRow?> FindAsync(NpgsqlConnection connection, string sha256, CancellationToken cancellation) =>
        connection.QuerySingleOrDefaultAsync("SELECT sha256, size, kind, name FROM artifacts WHERE sha256 = @sha",
            r => new ArtifactRow(r.GetString(0), r.GetInt64(1), r.GetString(2), r.GetString(3)), cancellation, ("sha", sha256));

    /// <summary>Records <paramref name="name"/> as a file of the job (a later upload of the same name replaces it).</summary>
    public static Task RecordJobFileAsync(NpgsqlConnection connection, Guid jobId, int attempt, string name, string sha256, long size,
        CancellationToken cancellation) =>
        connection.ExecuteAsync("""
            INSERT INTO job_files (job_id, name, attempt, sha256, size) VALUES (@job, @name, @attempt, @sha, @size)
            ON CONFLICT (job_id, name) DO UPDATE SET attempt = excluded.attempt, sha256 = excluded.sha256, size = excluded.size, created_at = now()
            """, cancellation, ("job", jobId), ("name", name), ("attempt", attempt), ("sha", sha256), ("size", size));
}
