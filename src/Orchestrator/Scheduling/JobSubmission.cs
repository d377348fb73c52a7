using Microsoft.Extensions.Options;
using Npgsql;
using Serilog.Context;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Hosting;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using Job = SpectralDiffusion.Orchestrator.Domain.Job;
using JobView = SpectralDiffusion.Shared.Contracts.V1.Job;

namespace SpectralDiffusion.Orchestrator.Scheduling;

/// <summary>Submitting and cancelling jobs: validation (shared with the CLI), references to other jobs and artifacts, and the first/last state.</summary>
public sealed class JobSubmission(Database database, NotificationDispatcher dispatcher, SchedulerSignal scheduler,
    IOptions<OrchestratorOptions> options, ILogger<JobSubmission> logger)
{
    readonly JobSpecValidator validator = new(options.Value.MaxWorldSize, SpecPathRules.Server(options.Value.DataRoots));

    public async Task<JobView> SubmitAsync(JobSpec? spec, CancellationToken cancellation)
    {
        if (spec is not null) JobSpecDefaults.Apply(spec);
        var violations = validator.Validate(spec);
        if (violations.Count > 0) throw OrchestratorException.Invalid(violations);
        var job = Job.Submit(spec!);
        var (view, notifications) = await database.TransactAsync(async (connection, token) =>
        {
            var dependsOn = await CheckReferencesAsync(connection, job.Spec, token);
            await JobRepository.InsertAsync(connection, job, dependsOn, token);
            var notes = new Notifications();
            notes.JobChanged(job.Id, "submitted");
            return ((await JobRepository.GetAsync(connection, job.Id, token))!, notes);
        }, cancellation);
        using (LogContext.PushProperty("JobId", job.Id))
            logger.LogInformation("Job {JobId} submitted: {JobType} {Preset} on {WorldSize} {Device} ranks",
                job.Id, spec!.Type, spec.Model.Preset, spec.WorldSize, spec.Device);
        await dispatcher.DispatchAsync(notifications, cancellation);
        scheduler.Nudge();
        return view;
    }

    public async Task<JobView> CancelAsync(Guid id, string reason, CancellationToken cancellation)
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
    internal static async Task<List<Guid>> CheckReferencesAsync(NpgsqlConnection connection, JobSpec spec, CancellationToken cancellation,
        string fieldPrefix = "spec.")
    {
        var dependsOn = new List<Guid>();
        var violations = new List<FieldViolation>();
        foreach (var (model, field) in new[] { (spec.Model, fieldPrefix + "model.checkpoint"), (spec.Teacher, fieldPrefix + "teacher.checkpoint") })
        {
            if (model is null) continue;
            var reference = ModelReference.Parse(model.Checkpoint);
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
