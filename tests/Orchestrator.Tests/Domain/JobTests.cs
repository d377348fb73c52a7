using SpectralDiffusion.Orchestrator.Domain;
using SpectralDiffusion.Orchestrator.Services;

namespace SpectralDiffusion.Orchestrator.Tests.Domain;

public class JobTests
{
    [Fact]
    public void AbortAttempt_RestartsRemain_RequeuesThenFailsWhenExhausted()
    {
        var job = Job.Submit(JobMapping.ToDocument(Specs.Train(maxRestarts: 1)));
        job.StartAttempt(resumeStep: 0);

        var requeued = job.AbortAttempt(1, "worker lost");
        job.StartAttempt(resumeStep: 20);
        var requeuedAgain = job.AbortAttempt(2, "worker lost again");

        Assert.True(requeued);
        Assert.False(requeuedAgain);
        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal((2, 1, 20L), (job.Attempt, job.Restarts, job.ResumeStep));
        Assert.Contains("no restarts left", job.FailureReason);
    }

    [Fact]
    public void AbortAttempt_PermanentWithRestartsLeft_FailsAtOnce()
    {
        var job = Job.Submit(JobMapping.ToDocument(Specs.Train(maxRestarts: 5)));
        job.StartAttempt(resumeStep: 0);

        var requeued = job.AbortAttempt(1, "rank 0 failed: dataset.image_size 7 does not match the model's image size 32", permanent: true);

        Assert.False(requeued);
        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal((1, 0), (job.Attempt, job.Restarts));
        Assert.Contains("image_size 7", job.FailureReason);
        Assert.Contains("permanent failure: not retried", job.FailureReason);
    }

    [Fact]
    public void MarkRunning_StaleAttempt_Throws()
    {
        var job = Job.Submit(JobMapping.ToDocument(Specs.Train(maxRestarts: 1)));
        job.StartAttempt(0);
        job.AbortAttempt(1, "lost");
        job.StartAttempt(0);

        var error = Assert.Throws<IllegalJobTransitionException>(() => job.MarkRunning(1));

        Assert.Contains("attempt 1", error.Message);
    }

    [Fact]
    public void MarkRunning_Twice_ChangesStateOnce()
    {
        var job = Job.Submit(JobMapping.ToDocument(Specs.Train()));
        job.StartAttempt(0);

        Assert.True(job.MarkRunning(1));
        Assert.False(job.MarkRunning(1));
        Assert.Equal(JobState.Running, job.State);
    }

    [Fact]
    public void Cancel_TerminalJob_Throws()
    {
        var job = Job.Submit(JobMapping.ToDocument(Specs.Train()));
        job.StartAttempt(0);
        job.Succeed(1, "artifact:" + new string('a', 64));

        Assert.Throws<IllegalJobTransitionException>(() => job.Cancel("too late"));
        Assert.Equal(JobState.Succeeded, job.State);
    }

    [Fact]
    public void StartAttempt_NotQueued_Throws()
    {
        var job = Job.Submit(JobMapping.ToDocument(Specs.Train()));
        job.StartAttempt(0);

        Assert.Throws<IllegalJobTransitionException>(() => job.StartAttempt(0));
        Assert.Equal(1, job.Attempt);
    }
}
