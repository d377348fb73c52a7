using SpectralDiffusion.Worker.Agent;
using static SpectralDiffusion.Worker.Agent.LifecycleEvent;
using static SpectralDiffusion.Worker.Tests.Agent.Orders;

namespace SpectralDiffusion.Worker.Tests.Agent;

public class RunningAttemptTests
{
    static (RunningAttempt Attempt, List<LifecycleEvent> Posted) Attempt()
    {
        var posted = new List<LifecycleEvent>();
        return (new RunningAttempt(Start("job-a"), posted.Add), posted);
    }

    [Fact]
    public void Abort_Twice_TearsDownOnceAndEnds()
    {
        var (attempt, _) = Attempt();
        var tornDown = 0;
        attempt.OnAbort(() => tornDown++);

        attempt.Abort();
        attempt.Abort();

        Assert.Equal(1, tornDown);
        Assert.True(attempt.Ending.IsCancellationRequested);
    }

    [Fact]
    public void Stop_EndsWithoutTearingDown()
    {
        var (attempt, _) = Attempt();
        var tornDown = false;
        attempt.OnAbort(() => tornDown = true);

        attempt.Stop();

        Assert.True(attempt.Ending.IsCancellationRequested);
        Assert.False(attempt.Aborted);
        Assert.False(tornDown);
    }

    [Fact]
    public void Started_Always_PostsItsOwnStart()
    {
        var (attempt, posted) = Attempt();

        attempt.Started();

        Assert.Same(attempt, Assert.IsType<AttemptStarted>(Assert.Single(posted)).Attempt);
    }
}
