using Microsoft.Extensions.Options;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Shared.Sweeps;
using SpectralDiffusion.Orchestrator.Delivery;
using SpectralDiffusion.Orchestrator.Submission;
using Job = SpectralDiffusion.Orchestrator.Domain.Job;

namespace SpectralDiffusion.Orchestrator.Sweeps;

/// <summary>
/// Submitting and cancelling sweeps. A sweep is expanded and checked in full (<see cref="SweepExpansion"/>) before the
/// database is touched, then the sweep and all its jobs are written in one transaction: bad input creates nothing.
/// </summary>
public sealed class SweepSubmission(Database database, NotificationDispatcher dispatcher, SchedulerSignal scheduler,
    IOptions<SubmissionOptions> submission, IOptions<SweepOptions> options, ILogger<SweepSubmission> logger)
{
    readonly JobSpecValidator validator = submission.Value.CreateValidator();

    public async Task<SweepRecord> SubmitAsync(SweepSpec? spec, CancellationToken cancellation)
    {
        if (spec is null) throw OrchestratorException.Invalid("spec", "a sweep spec is required");
        if (spec.Base is not null) JobSpecDefaults.Apply(spec.Base);
        var violations = ProtoValues.Violations(spec, "spec");
        if (violations.Count > 0) throw OrchestratorException.Invalid(violations);
        ExpandedSweep expanded;
        try { expanded = SweepExpansion.Expand(spec, options.Value.MaxSweepJobs, validator); }
        catch (SweepSpecException e) { throw OrchestratorException.Invalid(e.Violations); }

        var id = Guid.CreateVersion7();
        var (sweep, notifications) = await database.TransactAsync(async (connection, token) =>
        {
            await SweepRepository.InsertAsync(connection, id, spec, expanded.Arms, token);
            var notes = new Notifications();
            foreach (var plan in expanded.Jobs)
            {
                // Jobs are written dependencies first, so references inside the sweep find their (queued) job.
                var dependsOn = await JobSubmission.CheckReferencesAsync(connection, plan.Spec, token, $"spec.arms[{plan.Arm}].");
                var job = new Job(plan.Id, plan.Spec, JobState.Queued);
                await JobRepository.InsertAsync(connection, job, dependsOn, token, new SweepMembership(id, plan.Arm, plan.Seed));
                notes.JobChanged(job.Id, $"submitted with sweep {id}");
            }
            return ((await SweepRepository.GetAsync(connection, id, token))!, notes);
        }, cancellation);
        logger.LogInformation("Sweep {SweepId} {SweepName} submitted: {Arms} arms × {Seeds} seeds = {Jobs} jobs",
            id, spec.Name, expanded.Arms.Count, spec.Seeds.Count, expanded.Jobs.Count);
        await dispatcher.DispatchAsync(notifications, cancellation);
        scheduler.Nudge();
        return sweep;
    }

    /// <summary>Marks the sweep cancelled and cancels every job of it that has not ended, in one transaction.</summary>
    public async Task<SweepRecord> CancelAsync(Guid id, string reason, CancellationToken cancellation)
    {
        var why = reason.Length > 0 ? reason : "sweep cancelled";
        var (sweep, notifications) = await database.TransactAsync(async (connection, token) =>
        {
            if (!await SweepRepository.MarkCancelledAsync(connection, id, why, token)) throw OrchestratorException.NotFound($"sweep {id} does not exist");
            var notes = new Notifications();
            foreach (var jobId in await SweepRepository.LiveJobsAsync(connection, id, token))
                if (await JobRepository.LoadForUpdateAsync(connection, jobId, token) is { IsTerminal: false } job)
                    await JobSubmission.CancelLockedAsync(connection, job, $"sweep {id} cancelled: {why}", notes, token);
            return ((await SweepRepository.GetAsync(connection, id, token))!, notes);
        }, cancellation);
        logger.LogInformation("Sweep {SweepId} cancelled: {Reason}", id, why);
        await dispatcher.DispatchAsync(notifications, cancellation);
        scheduler.Nudge();
        return sweep;
    }
}
