using Microsoft.Extensions.Options;
using Npgsql;
using SpectralDiffusion.Orchestrator.Artifacts;
using SpectralDiffusion.Orchestrator.Persistence;

namespace SpectralDiffusion.Orchestrator.Retention;

/// <summary>
/// Applies the retention policy once. In one transaction it deletes the rows the policy drops (old checkpoints, uploads of
/// checkpoints that can never complete, final models and job files of ended jobs where the policy says so) and then the
/// artifact rows nothing names any more; after the commit it removes those rows' files, then stored files that no row
/// names and are older than <see cref="RetentionOptions.OrphanFileAge"/>. Rows go first: a pass that stops midway leaves
/// files without rows (removed by the next pass), never a row that names a missing file. A dry run rolls the transaction
/// back and removes nothing.
/// </summary>
public sealed class GarbageCollector(Database database, ArtifactStore store, IOptions<RetentionOptions> options)
{
    /// <summary>A dropped row and the stored content it named.</summary>
    sealed record Dropped(Guid JobId, string What, string Name, string[] Sha256s);

    public async Task<RetentionReport> CollectAsync(bool dryRun, CancellationToken cancellation) =>
        await database.ReadAsync(async (connection, token) =>
        {
            if (!dryRun) await ArtifactRemovalLock.TakeAsync(connection, token);
            try
            {
                List<Dropped> dropped;
                Dictionary<string, long> freed;
                await using (var transaction = await connection.BeginTransactionAsync(token))
                {
                    await TermFence.EnsureCurrentAsync(connection, token);
                    dropped = await DropRowsAsync(connection, options.Value, token);
                    freed = await DeleteUnnamedArtifactsAsync(connection, dropped.SelectMany(d => d.Sha256s).Distinct().ToArray(), token);
                    if (dryRun) await transaction.RollbackAsync(token);
                    else await transaction.CommitAsync(token);
                }
                if (!dryRun)
                    foreach (var sha256 in freed.Keys) store.Forget(sha256);
                var orphans = await OrphansAsync(connection, token);
                if (!dryRun)
                    foreach (var orphan in orphans) File.Delete(orphan.Path);
                return Report(dropped, freed, orphans, dryRun);
            }
            finally
            {
                if (!dryRun) await ArtifactRemovalLock.ReleaseAsync(connection, CancellationToken.None);
            }
        }, cancellation);

    static RetentionReport Report(List<Dropped> dropped, Dictionary<string, long> freed, List<ArtifactStore.StoredFile> orphans, bool dryRun)
    {
        var counted = new HashSet<string>();
        var items = dropped
            .Select(d => new DroppedItem(d.JobId, d.What, d.Name, d.Sha256s.Where(s => freed.ContainsKey(s) && counted.Add(s)).Sum(s => freed[s])))
            .Concat(orphans.Select(o => new DroppedItem(null, GarbageKinds.Orphan, Path.GetFileName(o.Path), o.Bytes)))
            .ToList();
        return new RetentionReport(items, freed.Values.Sum() + orphans.Sum(o => o.Bytes), freed.Count + orphans.Count, dryRun);
    }

    /// <summary>Each job's policy: its spec's <c>retention</c> fields, else the orchestrator's defaults.</summary>
    const string Policy = """
        WITH policy AS (
            SELECT j.id AS job_id, j.attempt, j.result_artifact,
                   j.state IN ('SUCCEEDED', 'FAILED', 'CANCELLED') AS ended,
                   COALESCE((j.spec_json -> 'retention' ->> 'keepCheckpoints')::int, @keep_checkpoints) AS keep_checkpoints,
                   COALESCE((j.spec_json -> 'retention' ->> 'keepFinalModel')::boolean, @keep_model) AS keep_model,
                   COALESCE((j.spec_json -> 'retention' ->> 'keepEvaluationFiles')::boolean, @keep_files) AS keep_files
            FROM jobs j)
        """;

    static async Task<List<Dropped>> DropRowsAsync(NpgsqlConnection connection, RetentionOptions defaults, CancellationToken cancellation)
    {
        (string, object?)[] policy =
            [("keep_checkpoints", defaults.RetainCheckpoints), ("keep_model", defaults.RetainFinalModel), ("keep_files", defaults.RetainEvaluationFiles)];
        var dropped = new List<Dropped>();

        // Checkpoints beyond the last N by step (the order the scheduler resumes from). An unfinished job keeps its newest
        // whatever N says (a re-queued attempt resumes from it), and no checkpoint a live attempt resumes from is dropped.
        var checkpoints = await connection.QueryAsync(Policy + """
            , ranked AS (
                SELECT c.id, c.job_id, c.step, p.ended, p.keep_checkpoints,
                       row_number() OVER (PARTITION BY c.job_id ORDER BY c.step DESC, c.attempt DESC) AS newest
                FROM checkpoints c JOIN policy p ON p.job_id = c.job_id)
            , doomed AS (
                SELECT r.id, r.job_id, r.step FROM ranked r
                WHERE r.newest > r.keep_checkpoints AND (r.ended OR r.newest > 1)
                  AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.resume_checkpoint_id = r.id AND a.state IN ('scheduled', 'running')))
            , shards AS (
                DELETE FROM checkpoint_shards s USING doomed d WHERE s.checkpoint_id = d.id RETURNING s.checkpoint_id, s.sha256)
            SELECT d.id, d.job_id, d.step, ARRAY(SELECT s.sha256 FROM shards s WHERE s.checkpoint_id = d.id) FROM doomed d ORDER BY d.job_id, d.step
            """, r => (Id: r.GetGuid(0), Row: new Dropped(r.GetGuid(1), GarbageKinds.Checkpoint, $"step {r.GetInt64(2)}", r.GetFieldValue<string[]>(3))),
            cancellation, policy);
        await connection.ExecuteAsync("DELETE FROM checkpoints WHERE id = ANY (@ids)", cancellation, ("ids", checkpoints.Select(c => c.Id).ToArray()));
        dropped.AddRange(checkpoints.Select(c => c.Row));

        // Shards of a checkpoint that can no longer complete: its job ended, or a later attempt replaced the one writing it.
        dropped.AddRange(await connection.QueryAsync("""
            WITH gone AS (
                DELETE FROM checkpoint_uploads u USING jobs j
                WHERE u.job_id = j.id AND (j.state IN ('SUCCEEDED', 'FAILED', 'CANCELLED') OR u.attempt < j.attempt)
                RETURNING u.job_id, u.attempt, u.step, u.sha256)
            SELECT job_id, attempt, step, array_agg(sha256) FROM gone GROUP BY job_id, attempt, step ORDER BY job_id, step
            """, r => new Dropped(r.GetGuid(0), GarbageKinds.CheckpointUpload, $"attempt {r.GetInt32(1)} step {r.GetInt64(2)}",
            r.GetFieldValue<string[]>(3)), cancellation));

        // Final models of ended jobs whose policy drops them, unless an unfinished job starts from one.
        dropped.AddRange(await connection.QueryAsync(Policy + """
            , doomed AS (
                SELECT p.job_id, p.result_artifact FROM policy p
                WHERE p.ended AND NOT p.keep_model AND p.result_artifact <> ''
                  AND NOT EXISTS (
                      SELECT 1 FROM jobs o
                      WHERE o.state NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED')
                        AND (p.job_id = ANY (o.depends_on)
                             OR o.spec_json -> 'model' ->> 'checkpoint' = p.result_artifact
                             OR o.spec_json -> 'teacher' ->> 'checkpoint' = p.result_artifact)))
            , cleared_ranks AS (
                UPDATE attempt_ranks r SET final_artifact = '' FROM doomed d WHERE r.job_id = d.job_id AND r.final_artifact <> '')
            , cleared AS (
                UPDATE jobs j SET result_artifact = '' FROM doomed d WHERE j.id = d.job_id RETURNING j.id)
            SELECT d.job_id, d.result_artifact FROM doomed d ORDER BY d.job_id
            """, r => new Dropped(r.GetGuid(0), GarbageKinds.Model, r.GetString(1), [ArtifactSha(r.GetString(1))]), cancellation, policy));

        // Evaluation files and sample grids of ended jobs whose policy drops them.
        dropped.AddRange(await connection.QueryAsync(Policy + """
            , samples AS (
                UPDATE evaluations e SET samples_artifact = '' FROM policy p
                WHERE e.job_id = p.job_id AND p.ended AND NOT p.keep_files AND e.samples_artifact <> ''
                RETURNING e.job_id, e.samples_artifact)
            , files AS (
                DELETE FROM job_files f USING policy p WHERE f.job_id = p.job_id AND p.ended AND NOT p.keep_files
                RETURNING f.job_id, f.name, f.sha256)
            SELECT job_id, name, sha256 FROM files
            UNION ALL
            SELECT job_id, 'samples of an evaluation', samples_artifact FROM samples
            ORDER BY 1, 2
            """, r => new Dropped(r.GetGuid(0), GarbageKinds.File, r.GetString(1), [ArtifactSha(r.GetString(2))]), cancellation, policy));
        return dropped;
    }

    static string ArtifactSha(string reference) => reference.StartsWith("artifact:", StringComparison.Ordinal) ? reference["artifact:".Length..] : reference;

    /// <summary>
    /// Deletes the artifact rows that no row names any more: the content just dropped, and leftovers of ended jobs (a
    /// model uploaded by an attempt that then failed). Returns each deleted row's content hash and size.
    /// </summary>
    static async Task<Dictionary<string, long>> DeleteUnnamedArtifactsAsync(NpgsqlConnection connection, string[] dropped, CancellationToken cancellation) =>
        (await connection.QueryAsync("""
            DELETE FROM artifacts a
            WHERE (a.sha256 = ANY (@dropped)
                   OR (a.kind IN ('model', 'checkpoint_shard')
                       AND a.job_id IN (SELECT id FROM jobs WHERE state IN ('SUCCEEDED', 'FAILED', 'CANCELLED'))))
              AND NOT EXISTS (SELECT 1 FROM checkpoint_shards s WHERE s.sha256 = a.sha256)
              AND NOT EXISTS (SELECT 1 FROM checkpoint_uploads u WHERE u.sha256 = a.sha256)
              AND NOT EXISTS (SELECT 1 FROM job_files f WHERE f.sha256 = a.sha256)
              AND NOT EXISTS (SELECT 1 FROM attempt_ranks r WHERE r.final_artifact = 'artifact:' || a.sha256)
              AND NOT EXISTS (SELECT 1 FROM evaluations e WHERE e.samples_artifact IN (a.sha256, 'artifact:' || a.sha256))
              AND NOT EXISTS (SELECT 1 FROM jobs j
                              WHERE j.result_artifact = 'artifact:' || a.sha256
                                 OR j.spec_json -> 'model' ->> 'checkpoint' = 'artifact:' || a.sha256
                                 OR j.spec_json -> 'teacher' ->> 'checkpoint' = 'artifact:' || a.sha256)
            RETURNING a.sha256, a.size
            """, r => (Sha256: r.GetString(0), Size: r.GetInt64(1)), cancellation, ("dropped", dropped)))
        .ToDictionary(row => row.Sha256, row => row.Size);

    /// <summary>Stored files older than the orphan age whose content no artifact row records.</summary>
    async Task<List<ArtifactStore.StoredFile>> OrphansAsync(NpgsqlConnection connection, CancellationToken cancellation)
    {
        var cutoff = DateTime.UtcNow - options.Value.OrphanFileAge;
        var old = store.StoredFiles().Where(f => f.LastWriteUtc < cutoff).ToList();
        var recorded = (await connection.QueryAsync("SELECT sha256 FROM artifacts WHERE sha256 = ANY (@shas)", r => r.GetString(0), cancellation,
            ("shas", old.Where(f => f.Sha256 is not null).Select(f => f.Sha256!).ToArray()))).ToHashSet();
        return old.Where(f => f.Sha256 is null || !recorded.Contains(f.Sha256)).ToList();
    }
}
