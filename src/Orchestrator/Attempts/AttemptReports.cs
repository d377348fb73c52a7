using Npgsql;
using Serilog.Context;
using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Delivery;

namespace SpectralDiffusion.Orchestrator.Attempts;

/// <summary>
/// What the ranks of a live attempt report: progress and metrics (the first makes the job RUNNING), evaluation results,
/// and their end. All ranks succeeded → SUCCEEDED with rank 0's model; any rank failed → the attempt aborts on every rank.
/// </summary>
public sealed class AttemptReports(Database database, NotificationDispatcher dispatcher, SchedulerSignal scheduler, ILogger<AttemptReports> logger)
{
    public async Task ReportProgressAsync(ProgressUpdate report, CancellationToken cancellation)
    {
        var (workerId, jobId) = (report.WorkerId, report.JobId);
        if (report.Step < 0) throw OrchestratorException.Invalid("step", $"is {report.Step}; must not be negative");
        var notifications = await database.TransactAsync(async (connection, token) =>
        {
            var job = await LoadLiveAttemptAsync(connection, jobId, report.Attempt, report.Rank, workerId, token);
            var notes = new Notifications();
            var expected = job.State;
            if (job.MarkRunning(report.Attempt))
            {
                await AttemptRepository.MarkRunningAsync(connection, jobId, report.Attempt, token);
                await JobRepository.SaveAsync(connection, job, expected, token);
                notes.JobChanged(jobId, $"attempt {report.Attempt} running");
            }
            await MetricRepository.InsertAsync(connection, report, token);
            if (report.Rank == 0)
            {
                await JobRepository.UpdateProgressAsync(connection, report, token);
                notes.JobChanged(jobId, $"step {report.Step}/{report.TotalSteps}");
            }
            return notes;
        }, cancellation);
        await dispatcher.DispatchAsync(notifications, cancellation);
    }

    public async Task CompleteAsync(AttemptOutcome result, CancellationToken cancellation)
    {
        var (workerId, jobId) = (result.WorkerId, result.JobId);
        var finalSha = result.FinalArtifact.Length > 0 ? Ids.ParseArtifact(result.FinalArtifact, "final_artifact") : null;
        var notifications = await database.TransactAsync(async (connection, token) =>
        {
            var job = await LoadLiveAttemptAsync(connection, jobId, result.Attempt, result.Rank, workerId, token);
            if (finalSha is not null && await ArtifactRepository.FindAsync(connection, finalSha, token) is null)
                throw OrchestratorException.Invalid("final_artifact", $"artifact {finalSha} was never uploaded");
            await AttemptRepository.CompleteRankAsync(connection, jobId, result.Attempt, result.Rank, workerId, result.Succeeded,
                result.Error, result.FinalArtifact, token);
            var notes = new Notifications();
            if (!result.Succeeded)
                await AttemptTermination.AbortAsync(connection, job, $"rank {result.Rank} failed: {result.Error}", cancel: false, notes, token,
                    permanent: result.Permanent);
            else if (await AttemptRepository.RanksAsync(connection, jobId, result.Attempt, token) is var ranks && ranks.All(r => r.Completed && r.Succeeded))
                await AttemptTermination.SucceedAsync(connection, job, ranks[0].FinalArtifact, notes, token);
            return notes;
        }, cancellation);
        using (LogContext.PushProperty("JobId", jobId))
        using (LogContext.PushProperty("Attempt", result.Attempt))
        using (LogContext.PushProperty("WorkerId", workerId))
            logger.LogInformation("Job {JobId} attempt {Attempt} rank {Rank} finished: succeeded {Succeeded} permanent {Permanent} {Error}",
                jobId, result.Attempt, result.Rank, result.Succeeded, result.Permanent, result.Error);
        await dispatcher.DispatchAsync(notifications, cancellation);
        scheduler.Nudge();
    }

    public async Task ReportEvaluationAsync(EvaluationResult report, CancellationToken cancellation)
    {
        var (workerId, jobId) = (report.WorkerId, report.JobId);
        if (report.NumSamples < 0) throw OrchestratorException.Invalid("num_samples", $"is {report.NumSamples}; must not be negative");
        if (report.Fid is { } fid && !(fid >= 0)) throw OrchestratorException.Invalid("fid", $"is {fid}; must be a non-negative number");
        if (!double.IsFinite(report.LowFrequencyError) || !double.IsFinite(report.HighFrequencyError))
            throw OrchestratorException.Invalid("low_frequency_error", "frequency errors must be finite numbers");
        await database.TransactAsync(async (connection, token) =>
        {
            var job = await JobRepository.LoadForUpdateAsync(connection, jobId, token) ?? throw OrchestratorException.NotFound($"job {jobId} does not exist");
            if (report.Attempt < 1 || report.Attempt > job.Attempt)
                throw OrchestratorException.Precondition($"job {jobId} has no attempt {report.Attempt} (latest is {job.Attempt})");
            if ((await AttemptRepository.RanksAsync(connection, jobId, report.Attempt, token)).All(r => r.WorkerId != workerId))
                throw new OrchestratorException(OrchestratorErrorKind.PermissionDenied,
                    $"worker {workerId} runs no rank of job {jobId} attempt {report.Attempt}");
            await EvaluationRepository.InsertAsync(connection, report.Preset.Length > 0 ? report : report with { Preset = job.Spec.Preset }, token);
            return true;
        }, cancellation);
    }

    /// <summary>Rank 0 of a live attempt reports what it resolved for the run; a report sent again replaces the first.</summary>
    public async Task ReportRunSettingsAsync(Guid workerId, Guid jobId, int rank, Domain.RunSettings settings, CancellationToken cancellation)
    {
        if (settings.Problem() is { } problem) throw OrchestratorException.Invalid(problem.Field, problem.Reason);
        if (rank != 0) throw OrchestratorException.Invalid("rank", $"is {rank}; rank 0 reports the run's settings");
        await database.TransactAsync(async (connection, token) =>
        {
            await LoadLiveAttemptAsync(connection, jobId, settings.Attempt, rank, workerId, token);
            await RunSettingsRepository.UpsertAsync(connection, jobId, settings, token);
            return true;
        }, cancellation);
    }

    /// <summary>Loads and locks the job, and checks that <paramref name="attempt"/> is live and <paramref name="rank"/> is run by <paramref name="workerId"/>.</summary>
    static async Task<Job> LoadLiveAttemptAsync(NpgsqlConnection connection, Guid jobId, int attempt, int rank, Guid workerId,
        CancellationToken cancellation)
    {
        var job = await JobRepository.LoadForUpdateAsync(connection, jobId, cancellation) ?? throw OrchestratorException.NotFound($"job {jobId} does not exist");
        if (!job.HasLiveAttempt || job.Attempt != attempt)
            throw OrchestratorException.Precondition(
                $"attempt {attempt} of job {jobId} is not live (the job is {JobStates.Name(job.State)} at attempt {job.Attempt}); stop this attempt");
        var ranks = await AttemptRepository.RanksAsync(connection, jobId, attempt, cancellation);
        if (rank < 0 || rank >= ranks.Count || ranks[rank].WorkerId != workerId)
            throw new OrchestratorException(OrchestratorErrorKind.PermissionDenied,
                $"worker {workerId} does not run rank {rank} of job {jobId} attempt {attempt}");
        return job;
    }
}
