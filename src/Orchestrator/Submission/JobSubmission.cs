using Npgsql;
using Serilog.Context;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Orchestrator.Attempts;
using SpectralDiffusion.Orchestrator.Delivery;

namespace SpectralDiffusion.Orchestrator.Submission;

/// <summary>
/// Submitting and cancelling jobs whose specs were accepted (checked and mapped where they entered): references to other
/// jobs and artifacts, and the first/last state.
/// </summary>
public sealed class JobSubmission(Database database, JobInsertBatcher inserts, NotificationDispatcher dispatcher, SchedulerSignal scheduler,
    ILogger<JobSubmission> logger)
{
    public async Task<JobSnapshot> SubmitAsync(JobSpecDocument spec, CancellationToken cancellation)
    {
        var job = Job.Submit(spec);
        // Without references to other jobs or artifacts the insert is the whole unit of work, written with the submits
        // that arrive meanwhile in one statement.
        var view = HasReferences(job.Spec)
            ? await database.TransactAsync(async (connection, token) =>
                await JobRepository.InsertAsync(connection, job, await CheckReferencesAsync(connection, job.Spec, token), token), cancellation)
            : await inserts.InsertAsync(job, cancellation);
        var notifications = new Notifications();
        notifications.JobChanged(job.Id, "submitted");
        using (LogContext.PushProperty("JobId", job.Id))
            logger.LogInformation("Job {JobId} submitted: {JobType} {Preset} on {WorldSize} {Device} ranks",
                job.Id, spec.Type, spec.Preset, spec.WorldSize, spec.Device);
        await dispatcher.DispatchAsync(notifications, cancellation);
        scheduler.Nudge();
        return view;
    }

    /// <summary>
    /// Submits accepted specs together (a sweep, a pipeline): all are stored in one transaction, with one statement for
    /// the rows: all of them or none.
    /// </summary>
    public async Task<IReadOnlyList<JobSnapshot>> SubmitManyAsync(IReadOnlyList<JobSpecDocument> specs, CancellationToken cancellation)
    {
        var jobs = specs.Select(Job.Submit).ToList();
        var views = await database.TransactAsync(async (connection, token) =>
        {
            var rows = new List<(Job, IReadOnlyList<Guid>)>();
            foreach (var job in jobs) rows.Add((job, HasReferences(job.Spec) ? await CheckReferencesAsync(connection, job.Spec, token) : []));
            return await JobRepository.InsertManyAsync(connection, rows, token);
        }, cancellation);
        logger.LogInformation("{Count} jobs submitted together: {JobIds}", jobs.Count, jobs.Select(j => j.Id));
        var notifications = new Notifications();
        foreach (var job in jobs) notifications.JobChanged(job.Id, "submitted");
        await dispatcher.DispatchAsync(notifications, cancellation);
        scheduler.Nudge();
        return views;
    }

    public async Task<JobSnapshot> CancelAsync(Guid id, string reason, CancellationToken cancellation)
    {
        var (view, notifications) = await database.TransactAsync(async (connection, token) =>
        {
            var job = await JobRepository.LoadForUpdateAsync(connection, id, token) ?? throw OrchestratorException.NotFound($"job {id} does not exist");
            var notes = new Notifications();
            await CancelLockedAsync(connection, job, reason, notes, token);
            return ((await JobRepository.GetAsync(connection, id, token))!, notes);
        }, cancellation);
        using (LogContext.PushProperty("JobId", id))
            logger.LogInformation("Job {JobId} cancelled: {Reason}", id, reason);
        await dispatcher.DispatchAsync(notifications, cancellation);
        scheduler.Nudge();
        return view;
    }

    static bool HasReferences(JobSpecDocument spec) =>
        spec.Checkpoints.Any(c => ModelReference.Parse(c.Checkpoint).Kind is ModelReferenceKind.Job or ModelReferenceKind.Artifact);

    /// <summary>Cancels a job locked by the caller's transaction: its live attempt is aborted on every rank, a queued job just ends.</summary>
    internal static async Task CancelLockedAsync(NpgsqlConnection connection, Job job, string reason, Notifications notes, CancellationToken cancellation)
    {
        if (job.HasLiveAttempt) await AttemptTermination.AbortAsync(connection, job, reason, cancel: true, notes, cancellation);
        else
        {
            var expected = job.State;
            job.Cancel(reason);
            await JobRepository.SaveAsync(connection, job, expected, cancellation);
            notes.JobChanged(job.Id, job.FailureReason);
        }
    }

    /// <summary>The jobs whose final model this spec loads (<c>job:&lt;id&gt;</c>), after checking that they and named artifacts exist.</summary>
    internal static async Task<List<Guid>> CheckReferencesAsync(NpgsqlConnection connection, JobSpecDocument spec, CancellationToken cancellation,
        string fieldPrefix = "spec.")
    {
        var dependsOn = new List<Guid>();
        var violations = new List<FieldViolation>();
        foreach (var (checkpoint, specField) in spec.Checkpoints)
        {
            var field = fieldPrefix + specField;
            var reference = ModelReference.Parse(checkpoint);
            if (reference.Kind == ModelReferenceKind.Job)
            {
                var jobId = Guid.Parse(reference.Value);
                var state = await connection.QuerySingleOrDefaultAsync("SELECT state FROM jobs WHERE id = @id", r => r.GetString(0), cancellation, ("id", jobId));
                if (state is null) violations.Add(new(field, $"job {jobId} does not exist"));
                else if (state is "FAILED" or "CANCELLED") violations.Add(new(field, $"job {jobId} is {state}; it will never produce a model"));
                else dependsOn.Add(jobId);
            }
            else if (reference.Kind == ModelReferenceKind.Artifact && await ArtifactRepository.FindAsync(connection, reference.Value, cancellation) is null)
                violations.Add(new(field, $"artifact {reference.Value} is not stored on this orchestrator"));
        }
        return violations.Count > 0 ? throw OrchestratorException.Invalid(violations) : dependsOn;
    }
}
