using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Delivery;
using SpectralDiffusion.Orchestrator.Submission;

namespace SpectralDiffusion.Orchestrator.Sweeps;

/// <summary>
/// Submitting and cancelling sweeps. A sweep arrives expanded and checked in full (<see cref="SweepPlan"/>, made where it
/// entered) before the database is touched; the sweep and all its jobs are written in one transaction: bad input creates nothing.
/// </summary>
public sealed class SweepSubmission(Database database, NotificationDispatcher dispatcher, SchedulerSignal scheduler, ILogger<SweepSubmission> logger)
{
    public async Task<SweepRecord> SubmitAsync(SweepPlan plan, CancellationToken cancellation)
    {
        var id = Guid.CreateVersion7();
        var (sweep, notifications) = await database.TransactAsync(async (connection, token) =>
        {
            await SweepRepository.InsertAsync(connection, id, plan.Spec, plan.Arms, token);
            var notes = new Notifications();
            foreach (var job in plan.Jobs)
            {
                // Jobs are written dependencies first, so references inside the sweep find their (queued) job.
                var dependsOn = await JobSubmission.CheckReferencesAsync(connection, job.Spec, token, $"spec.arms[{job.Arm}].");
                await JobRepository.InsertAsync(connection, new Job(job.Id, job.Spec, JobState.Queued), dependsOn, token,
                    new SweepMembership(id, job.Arm, job.Seed));
                notes.JobChanged(job.Id, $"submitted with sweep {id}");
            }
            return ((await SweepRepository.GetAsync(connection, id, token))!, notes);
        }, cancellation);
        logger.LogInformation("Sweep {SweepId} {SweepName} submitted: {Arms} arms × {Seeds} seeds = {Jobs} jobs",
            id, plan.Spec.Name, plan.Arms.Count, plan.Spec.Seeds.Count, plan.Jobs.Count);
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
