using Microsoft.Extensions.Time.Testing;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Agent;
using static SpectralDiffusion.Worker.Agent.LifecycleEvent;
using static SpectralDiffusion.Worker.Tests.Agent.Orders;

namespace SpectralDiffusion.Worker.Tests.Agent;

public class AttemptLifecycleTests
{
    readonly FakeTimeProvider time = new();

    AttemptLifecycle Lifecycle(FakeAttemptRunner runner, int? attemptLimit = null) => new(runner, time, Silent, attemptLimit);

    async Task<(AttemptLifecycle Lifecycle, RunningAttempt Attempt)> RunningAsync(FakeAttemptRunner runner, int? attemptLimit = null)
    {
        var lifecycle = Lifecycle(runner, attemptLimit);
        await lifecycle.ApplyAsync(new StartOrdered(Start("job-a")));
        var attempt = runner.Runs.Single();
        attempt.Started();
        await lifecycle.NextAsync();
        return (lifecycle, attempt);
    }

    [Fact]
    public async Task StartOrdered_WhenIdle_StartsTheAttempt()
    {
        var runner = new FakeAttemptRunner();
        var lifecycle = Lifecycle(runner);

        await lifecycle.ApplyAsync(new StartOrdered(Start("job-a")));

        Assert.Equal(AttemptState.Starting, lifecycle.State);
        Assert.Equal("job-a", Assert.Single(runner.Runs).Order.JobId);
        Assert.Same(runner.Runs[0], lifecycle.Current);
        Assert.False(runner.Runs[0].Ending.IsCancellationRequested);
    }

    [Fact]
    public async Task AttemptStarted_WhenStarting_IsRunning()
    {
        var (lifecycle, _) = await RunningAsync(new FakeAttemptRunner());

        Assert.Equal(AttemptState.Running, lifecycle.State);
    }

    [Fact]
    public async Task AttemptEnded_WhenRunning_IsIdleAndCountsTheAttempt()
    {
        var runner = new FakeAttemptRunner();
        var (lifecycle, attempt) = await RunningAsync(runner);

        runner.Finish(attempt, Result(attempt.Order));
        await lifecycle.NextAsync();

        Assert.Equal(AttemptState.Idle, lifecycle.State);
        Assert.Null(lifecycle.Current);
        Assert.Equal(1, lifecycle.AttemptsEnded);
    }

    [Fact]
    public async Task AbortOrdered_DuringStart_EndsTheAttemptAndTearsDownWhatItJoinsLater()
    {
        var runner = new FakeAttemptRunner();
        var lifecycle = Lifecycle(runner);
        await lifecycle.ApplyAsync(new StartOrdered(Start("job-a")));
        var attempt = runner.Runs.Single();

        await lifecycle.ApplyAsync(new AbortOrdered(Abort("job-a")));
        var tornDown = false;
        attempt.OnAbort(() => tornDown = true);   // the collective the rank was joining when the abort came
        attempt.Started();
        await lifecycle.NextAsync();

        Assert.Equal(AttemptState.Aborting, lifecycle.State);
        Assert.True(attempt.Ending.IsCancellationRequested);
        Assert.True(attempt.Aborted);
        Assert.True(tornDown);
    }

    [Fact]
    public async Task AbortOrdered_DuringRun_TearsDownTheCollectiveThenIdleOnceEnded()
    {
        var runner = new FakeAttemptRunner(endWhenTold: true);
        var (lifecycle, attempt) = await RunningAsync(runner);
        var tornDown = 0;
        attempt.OnAbort(() => tornDown++);

        await lifecycle.ApplyAsync(new AbortOrdered(Abort("job-a")));
        var aborting = lifecycle.State;
        await lifecycle.NextAsync();

        Assert.Equal(AttemptState.Aborting, aborting);
        Assert.Equal(1, tornDown);
        Assert.Equal(AttemptState.Idle, lifecycle.State);
        Assert.Equal(1, lifecycle.AttemptsEnded);
    }

    [Fact]
    public async Task AbortOrdered_OfAnotherAttempt_IsIgnored()
    {
        var (lifecycle, attempt) = await RunningAsync(new FakeAttemptRunner());

        await lifecycle.ApplyAsync(new AbortOrdered(Abort("job-a", attempt: 2)));
        await lifecycle.ApplyAsync(new AbortOrdered(Abort("job-b")));

        Assert.Equal(AttemptState.Running, lifecycle.State);
        Assert.False(attempt.Ending.IsCancellationRequested);
    }

    [Fact]
    public async Task StartOrdered_ReplayOfTheRunningAttempt_DoesNotRunItTwice()
    {
        var runner = new FakeAttemptRunner();
        var (lifecycle, _) = await RunningAsync(runner);

        await lifecycle.ApplyAsync(new StartOrdered(Start("job-a")));

        Assert.Single(runner.Runs);
        Assert.Equal(AttemptState.Running, lifecycle.State);
        Assert.Empty(runner.Delivered);
    }

    [Fact]
    public async Task StartOrdered_ReplayOfAFinishedAttempt_DeliversItsResultAgainWithoutRunningIt()
    {
        var runner = new FakeAttemptRunner();
        var (lifecycle, attempt) = await RunningAsync(runner);
        var result = Result(attempt.Order);
        runner.Finish(attempt, result);
        await lifecycle.NextAsync();

        await lifecycle.ApplyAsync(new StartOrdered(Start("job-a")));
        await lifecycle.DrainAsync();

        Assert.Single(runner.Runs);
        Assert.Equal(AttemptState.Idle, lifecycle.State);
        Assert.Same(result, Assert.Single(runner.Delivered));
    }

    [Fact]
    public async Task StartOrdered_ReplayOfAnAttemptThatEndedWithoutResult_DeliversNothing()
    {
        var runner = new FakeAttemptRunner(endWhenTold: true);
        var (lifecycle, _) = await RunningAsync(runner);
        await lifecycle.ApplyAsync(new AbortOrdered(Abort("job-a")));
        await lifecycle.NextAsync();

        await lifecycle.ApplyAsync(new StartOrdered(Start("job-a")));

        Assert.Single(runner.Runs);
        Assert.Empty(runner.Delivered);
    }

    [Fact]
    public async Task StartOrdered_NextAttemptOfTheSameJob_Runs()
    {
        var runner = new FakeAttemptRunner();
        var (lifecycle, attempt) = await RunningAsync(runner);
        runner.Finish(attempt, null);
        await lifecycle.NextAsync();

        await lifecycle.ApplyAsync(new StartOrdered(Start("job-a", attempt: 2)));

        Assert.Equal([1, 2], runner.Runs.Select(r => r.Order.Attempt));
        Assert.Equal(AttemptState.Starting, lifecycle.State);
    }

    [Fact]
    public async Task StartOrdered_AnotherJobWhileRunning_IsIgnored()
    {
        var runner = new FakeAttemptRunner();
        var (lifecycle, attempt) = await RunningAsync(runner);

        await lifecycle.ApplyAsync(new StartOrdered(Start("job-b")));

        Assert.Same(attempt, Assert.Single(runner.Runs));
        Assert.Equal(AttemptState.Running, lifecycle.State);
    }

    [Fact]
    public async Task StartOrdered_WhileAborting_RunsOnceTheAbortedAttemptEnded()
    {
        var runner = new FakeAttemptRunner();
        var (lifecycle, first) = await RunningAsync(runner);
        await lifecycle.ApplyAsync(new AbortOrdered(Abort("job-a")));

        await lifecycle.ApplyAsync(new StartOrdered(Start("job-b")));
        var runsWhileAborting = runner.Runs.Count;
        runner.Finish(first, null);
        await lifecycle.NextAsync();

        Assert.Equal(1, runsWhileAborting);
        Assert.Equal(["job-a", "job-b"], runner.Runs.Select(r => r.Order.JobId));
        Assert.Equal(AttemptState.Starting, lifecycle.State);
        Assert.False(runner.Runs[1].Ending.IsCancellationRequested);
    }

    [Fact]
    public async Task StopRequested_WhenIdle_StopsToDeregister()
    {
        var lifecycle = Lifecycle(new FakeAttemptRunner());

        await lifecycle.ApplyAsync(new StopRequested());

        Assert.Equal(AttemptState.Stopped, lifecycle.State);
        Assert.Equal(SessionEnd.Deregister, lifecycle.End);
        Assert.Null(lifecycle.Failure);
    }

    [Fact]
    public async Task StopRequested_DuringStart_EndsTheAttemptWithoutAbortThenStops()
    {
        var runner = new FakeAttemptRunner(endWhenTold: true);
        var lifecycle = Lifecycle(runner);
        await lifecycle.ApplyAsync(new StartOrdered(Start("job-a")));
        var attempt = runner.Runs.Single();

        await lifecycle.ApplyAsync(new StopRequested());
        var stopping = lifecycle.State;
        await lifecycle.NextAsync();

        Assert.Equal(AttemptState.Stopping, stopping);
        Assert.False(attempt.Aborted);
        Assert.Equal(AttemptState.Stopped, lifecycle.State);
        Assert.Equal(SessionEnd.Deregister, lifecycle.End);
    }

    [Fact]
    public async Task StopRequested_DuringRun_LetsTheStepFinishThenStops()
    {
        var runner = new FakeAttemptRunner();
        var (lifecycle, attempt) = await RunningAsync(runner);

        await lifecycle.ApplyAsync(new StopRequested());
        var (stopping, told) = (lifecycle.State, attempt.Ending.IsCancellationRequested);
        time.Advance(lifecycle.StopGrace - TimeSpan.FromMilliseconds(1));
        runner.Finish(attempt, null);
        await lifecycle.NextAsync();

        Assert.Equal((AttemptState.Stopping, true), (stopping, told));
        Assert.False(attempt.Aborted);
        Assert.Equal(AttemptState.Stopped, lifecycle.State);
        Assert.Equal(SessionEnd.Deregister, lifecycle.End);
        Assert.Null(lifecycle.Current);
    }

    [Fact]
    public async Task StopRequested_WhileAborting_StopsOnceTheAttemptEnded()
    {
        var runner = new FakeAttemptRunner();
        var (lifecycle, attempt) = await RunningAsync(runner);
        await lifecycle.ApplyAsync(new AbortOrdered(Abort("job-a")));

        await lifecycle.ApplyAsync(new StopRequested());
        var stopping = lifecycle.State;
        runner.Finish(attempt, null);
        await lifecycle.NextAsync();

        Assert.Equal(AttemptState.Stopping, stopping);
        Assert.Equal(AttemptState.Stopped, lifecycle.State);
        Assert.Equal(SessionEnd.Deregister, lifecycle.End);
    }

    [Fact]
    public async Task StopRequested_WhileStopping_ChangesNothing()
    {
        var runner = new FakeAttemptRunner();
        var (lifecycle, attempt) = await RunningAsync(runner);
        await lifecycle.ApplyAsync(new StopRequested());

        await lifecycle.ApplyAsync(new StopRequested());

        Assert.Equal(AttemptState.Stopping, lifecycle.State);
        Assert.False(attempt.Aborted);
    }

    [Fact]
    public async Task StartOrdered_WhileStopping_StartsNothing()
    {
        var runner = new FakeAttemptRunner();
        var (lifecycle, _) = await RunningAsync(runner);
        await lifecycle.ApplyAsync(new StopRequested());

        await lifecycle.ApplyAsync(new StartOrdered(Start("job-b")));

        Assert.Single(runner.Runs);
        Assert.Equal(AttemptState.Stopping, lifecycle.State);
    }

    [Fact]
    public async Task StopRequested_AfterStopped_IsIgnored()
    {
        var lifecycle = Lifecycle(new FakeAttemptRunner());
        await lifecycle.ApplyAsync(new SessionLost(null));

        await lifecycle.ApplyAsync(new StopRequested());
        await lifecycle.ApplyAsync(new StartOrdered(Start("job-a")));

        Assert.Equal(AttemptState.Stopped, lifecycle.State);
        Assert.Equal(SessionEnd.Renew, lifecycle.End);
        Assert.Null(lifecycle.Current);
    }

    [Fact]
    public async Task StopGraceExpired_AttemptStillRunning_AbortsItAndStopsWithoutWaiting()
    {
        var runner = new FakeAttemptRunner();
        var (lifecycle, attempt) = await RunningAsync(runner);
        var tornDown = false;
        attempt.OnAbort(() => tornDown = true);
        await lifecycle.ApplyAsync(new StopRequested());

        time.Advance(lifecycle.StopGrace);
        await lifecycle.NextAsync();

        Assert.Equal(AttemptState.Stopped, lifecycle.State);
        Assert.Equal(SessionEnd.Deregister, lifecycle.End);
        Assert.True(attempt.Aborted);
        Assert.True(tornDown);
        Assert.Same(attempt, lifecycle.Current);   // still winding down: DrainAsync waits for it
        runner.Finish(attempt, null);
        await lifecycle.DrainAsync();
        Assert.Null(lifecycle.Current);
    }

    [Fact]
    public async Task SessionLost_WhenIdle_StopsToRegisterAgain()
    {
        var lifecycle = Lifecycle(new FakeAttemptRunner());

        await lifecycle.ApplyAsync(new SessionLost(null));

        Assert.Equal(AttemptState.Stopped, lifecycle.State);
        Assert.Equal(SessionEnd.Renew, lifecycle.End);
        Assert.Null(lifecycle.Failure);
    }

    [Fact]
    public async Task SessionLost_DuringRun_AbortsTheAttemptAndRenewsOnceItEnded()
    {
        var runner = new FakeAttemptRunner(endWhenTold: true);
        var (lifecycle, attempt) = await RunningAsync(runner);

        await lifecycle.ApplyAsync(new SessionLost(null));
        var aborting = lifecycle.State;
        await lifecycle.NextAsync();

        Assert.Equal(AttemptState.Aborting, aborting);
        Assert.True(attempt.Aborted);
        Assert.Equal(AttemptState.Stopped, lifecycle.State);
        Assert.Equal(SessionEnd.Renew, lifecycle.End);
    }

    [Fact]
    public async Task SessionLost_WhileStopping_AbortsAndNeedsNoDeregistration()
    {
        var runner = new FakeAttemptRunner();
        var (lifecycle, attempt) = await RunningAsync(runner);
        await lifecycle.ApplyAsync(new StopRequested());

        await lifecycle.ApplyAsync(new SessionLost(null));
        var state = lifecycle.State;
        runner.Finish(attempt, null);
        await lifecycle.NextAsync();

        Assert.Equal(AttemptState.Stopping, state);
        Assert.True(attempt.Aborted);
        Assert.Equal(AttemptState.Stopped, lifecycle.State);
        Assert.Equal(SessionEnd.Renew, lifecycle.End);
    }

    [Fact]
    public async Task SessionLost_WithAFailure_StopsWithTheFirstFailure()
    {
        var runner = new FakeAttemptRunner(endWhenTold: true);
        var (lifecycle, _) = await RunningAsync(runner);
        var failure = new OrchestratorFailingException("the orchestrator failed", null);

        await lifecycle.ApplyAsync(new SessionLost(failure));
        lifecycle.Post(new SessionLost(new InvalidOperationException("later")));
        await lifecycle.NextAsync();
        await lifecycle.NextAsync();

        Assert.Equal(AttemptState.Stopped, lifecycle.State);
        Assert.Same(failure, lifecycle.Failure);
    }

    [Fact]
    public async Task AttemptEnded_AtTheAttemptLimit_StopsToDeregister()
    {
        var runner = new FakeAttemptRunner();
        var (lifecycle, attempt) = await RunningAsync(runner, attemptLimit: 1);

        runner.Finish(attempt, Result(attempt.Order));
        await lifecycle.NextAsync();

        Assert.Equal(AttemptState.Stopped, lifecycle.State);
        Assert.Equal(SessionEnd.Deregister, lifecycle.End);
    }

    [Fact]
    public async Task AttemptEnded_RunnerFailed_IsIdleWithoutResult()
    {
        var lifecycle = new AttemptLifecycle(new FaultingRunner(), time, Silent);

        await lifecycle.ApplyAsync(new StartOrdered(Start("job-a")));
        await lifecycle.NextAsync();
        await lifecycle.ApplyAsync(new StartOrdered(Start("job-a")));

        Assert.Equal(AttemptState.Idle, lifecycle.State);
        Assert.Equal(1, lifecycle.AttemptsEnded);
    }

    /// <summary>A runner whose task faults instead of returning a result.</summary>
    sealed class FaultingRunner : IAttemptRunner
    {
        public Task<AttemptResult?> RunAsync(RunningAttempt attempt) => Task.FromException<AttemptResult?>(new IOException("disk full"));
        public Task DeliverAsync(AttemptResult result) => throw new InvalidOperationException("an attempt without result has nothing to deliver");
    }
}
