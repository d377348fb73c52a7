using Npgsql;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Delivery;

namespace SpectralDiffusion.Orchestrator.Attempts;

/// <summary>
/// Ends the live attempt of a locked job inside the caller's transaction: the attempt row, its workers (freed), the job
/// (succeeded, re-queued, failed or cancelled) and the abort orders to every rank all change together.
/// </summary>
public static class AttemptTermination
{
    public static async Task SucceedAsync(NpgsqlConnection connection, Job job, string resultArtifact, Notifications notifications,
        CancellationToken cancellation)
    {
        var (attempt, expected) = (job.Attempt, job.State);
        job.Succeed(attempt, resultArtifact);
        await EndAsync(connection, job, attempt, expected, "succeeded", "all ranks succeeded", notifications, cancellation);
        notifications.JobChanged(job.Id, $"attempt {attempt} succeeded");
    }

    /// <summary>
    /// Aborts the attempt on every rank; the job is re-queued while restarts remain, else FAILED (at once when the
    /// failure is <paramref name="permanent"/>). Cancels when <paramref name="cancel"/>.
    /// </summary>
    public static async Task AbortAsync(NpgsqlConnection connection, Job job, string reason, bool cancel, Notifications notifications,
        CancellationToken cancellation, bool permanent = false)
    {
        var (attempt, expected) = (job.Attempt, job.State);
        var requeued = false;
        if (cancel) job.Cancel(reason);
        else requeued = job.AbortAttempt(attempt, reason, permanent);
        var ranks = await AttemptRepository.RanksAsync(connection, job.Id, attempt, cancellation);
        await EndAsync(connection, job, attempt, expected, cancel ? "cancelled" : "aborted", reason, notifications, cancellation);
        foreach (var rank in ranks)
            notifications.Send(rank.WorkerId, new AbortOrder(job.Id, attempt, reason, cancel));
        notifications.JobChanged(job.Id, cancel ? $"cancelled: {reason}"
            : requeued ? $"attempt {attempt} aborted ({reason}); re-queued, restart {job.Restarts} of {job.Spec.MaxRestarts}"
            : job.FailureReason);
    }

    static async Task EndAsync(NpgsqlConnection connection, Job job, int attempt, JobState expected, string attemptState, string reason,
        Notifications notifications, CancellationToken cancellation)
    {
        var rendezvousId = await AttemptRepository.EndAsync(connection, job.Id, attempt, attemptState, reason, cancellation);
        await WorkerRepository.FreeAsync(connection, job.Id, attempt, cancellation);
        await JobRepository.SaveAsync(connection, job, expected, cancellation);
        if (rendezvousId is { } id) notifications.RendezvousEnded(id);
    }
}
