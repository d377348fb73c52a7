namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>
/// The job aggregate: QUEUED → SCHEDULED → RUNNING → SUCCEEDED | FAILED | CANCELLED, with numbered attempts and
/// up to <c>max_restarts</c> re-queues. Every method checks the current state and throws
/// <see cref="IllegalJobTransitionException"/> on an illegal move; persistence saves it compare-and-set.
/// </summary>
public sealed class Job(Guid id, JobSpecDocument spec, JobState state)
{
    public Guid Id { get; } = id;
    public JobSpecDocument Spec { get; } = spec;
    public JobState State { get; private set; } = state;
    public int Attempt { get; private set; }
    public int Restarts { get; private set; }
    public string FailureReason { get; private set; } = "";
    public string ResultArtifact { get; private set; } = "";
    public long ResumeStep { get; private set; }

    public bool IsTerminal => IsTerminalState(State);
    public bool HasLiveAttempt => State is JobState.Scheduled or JobState.Running;

    public static bool IsTerminalState(JobState state) => state is JobState.Succeeded or JobState.Failed or JobState.Cancelled;

    public static Job Submit(JobSpecDocument spec) => new(Guid.CreateVersion7(), spec, JobState.Queued);

    public static Job Restore(Guid id, JobSpecDocument spec, JobState state, int attempt, int restarts, string failureReason,
        string resultArtifact, long resumeStep) =>
        new(id, spec, state)
        {
            Attempt = attempt, Restarts = restarts, FailureReason = failureReason,
            ResultArtifact = resultArtifact, ResumeStep = resumeStep,
        };

    /// <summary>The scheduler gang-assigned workers: a new attempt starts, resuming from <paramref name="resumeStep"/>.</summary>
    public int StartAttempt(long resumeStep)
    {
        Require(JobState.Queued, "start an attempt");
        State = JobState.Scheduled;
        Attempt++;
        ResumeStep = resumeStep;
        return Attempt;
    }

    /// <summary>The first progress report of the attempt arrived. False when it was already running.</summary>
    public bool MarkRunning(int attempt)
    {
        RequireLiveAttempt(attempt, "mark running");
        if (State == JobState.Running) return false;
        State = JobState.Running;
        return true;
    }

    /// <summary>Every rank of the attempt reported success.</summary>
    public void Succeed(int attempt, string resultArtifact)
    {
        RequireLiveAttempt(attempt, "succeed");
        State = JobState.Succeeded;
        ResultArtifact = resultArtifact;
    }

    /// <summary>
    /// A rank failed or a worker was lost. Re-queues while restarts remain (true), else FAILED (false). A
    /// <paramref name="permanent"/> failure (one no retry can pass) is FAILED at once, whatever restarts remain.
    /// </summary>
    public bool AbortAttempt(int attempt, string reason, bool permanent = false)
    {
        RequireLiveAttempt(attempt, "abort the attempt");
        if (!permanent && Restarts < Spec.MaxRestarts)
        {
            Restarts++;
            State = JobState.Queued;
            FailureReason = $"attempt {attempt}: {reason}";
            return true;
        }
        State = JobState.Failed;
        FailureReason = permanent
            ? $"attempt {attempt}: {reason} (a permanent failure: not retried)"
            : $"attempt {attempt}: {reason} (no restarts left of {Spec.MaxRestarts})";
        return false;
    }

    /// <summary>A queued job that can never run (e.g. the job it depends on failed).</summary>
    public void Fail(string reason)
    {
        Require(JobState.Queued, "fail");
        State = JobState.Failed;
        FailureReason = reason;
    }

    public void Cancel(string reason)
    {
        if (IsTerminal) throw new IllegalJobTransitionException(Id, State, "cancel");
        State = JobState.Cancelled;
        FailureReason = reason.Length > 0 ? $"cancelled: {reason}" : "cancelled";
    }

    void Require(JobState expected, string action)
    {
        if (State != expected) throw new IllegalJobTransitionException(Id, State, action);
    }

    void RequireLiveAttempt(int attempt, string action)
    {
        if (!HasLiveAttempt || attempt != Attempt)
            throw new IllegalJobTransitionException(Id, State, $"{action} for attempt {attempt} (current attempt {Attempt})");
    }
}
