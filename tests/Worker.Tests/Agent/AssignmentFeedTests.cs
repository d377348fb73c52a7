using System.Runtime.CompilerServices;
using Grpc.Core;
using Microsoft.Extensions.Time.Testing;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Agent;
using static SpectralDiffusion.Worker.Agent.LifecycleEvent;
using static SpectralDiffusion.Worker.Tests.Agent.Orders;

namespace SpectralDiffusion.Worker.Tests.Agent;

public class AssignmentFeedTests
{
    readonly FakeTimeProvider time = new();
    readonly List<LifecycleEvent> posted = [];
    readonly List<Exception?> losses = [];
    readonly CancellationTokenSource session = new();

    /// <summary>One opening of the stream: its orders, then the error it breaks with (null: it stays open).</summary>
    sealed record Opening(Assignment[] Orders, RpcException? BreaksWith, TimeSpan ServedFor = default);

    static RpcException Status(StatusCode code) => new(new Status(code, $"{code} from the test"));

    static Assignment StartOf(string jobId) => new() { Start = Start(jobId) };

    AssignmentFeed Feed(int retries, params Opening[] openings)
    {
        var next = 0;
        return new AssignmentFeed(ct => Open(next < openings.Length ? openings[next++] : new Opening([], null), ct),
            e => { lock (posted) posted.Add(e); }, failure => { lock (losses) losses.Add(failure); session.Cancel(); },
            new UnexpectedErrors("Assignments", "http://orchestrator:5080", retries), time, Silent, "worker-1")
        {
            ReconnectDelay = TimeSpan.Zero,
        };
    }

    async IAsyncEnumerable<Assignment> Open(Opening opening, [EnumeratorCancellation] CancellationToken cancellation)
    {
        foreach (var order in opening.Orders) yield return order;
        time.Advance(opening.ServedFor);
        if (opening.BreaksWith is { } error) throw error;
        // The stream stays open: the test has seen what it waits for and ends the session.
        session.Cancel();
        await Task.Delay(Timeout.Infinite, cancellation);
    }

    [Fact]
    public async Task RunAsync_OrdersOnTheStream_ArePostedInOrder()
    {
        var feed = Feed(retries: 1, new Opening([StartOf("job-a"), new Assignment { Abort = Abort("job-a") }, StartOf("job-b")], null));

        await feed.RunAsync(session.Token);

        Assert.Collection(posted,
            e => Assert.Equal("job-a", Assert.IsType<StartOrdered>(e).Order.JobId),
            e => Assert.Equal("job-a", Assert.IsType<AbortOrdered>(e).Order.JobId),
            e => Assert.Equal("job-b", Assert.IsType<StartOrdered>(e).Order.JobId));
        Assert.Empty(losses);
    }

    [Fact]
    public async Task RunAsync_OutageLongerThanTheRetries_ReconnectsAndPassesOnTheReplay()
    {
        // An orchestrator outage: the stream breaks, every reconnect gets UNAVAILABLE for longer than the unexpected-error
        // retries allow, and the restarted orchestrator replays the start order of the attempt that runs.
        var unavailable = Enumerable.Range(0, 5).Select(_ => new Opening([], Status(StatusCode.Unavailable)));
        var feed = Feed(retries: 1, [new Opening([StartOf("job-a")], Status(StatusCode.Unavailable)), .. unavailable, new Opening([StartOf("job-a")], null)]);

        await feed.RunAsync(session.Token);

        Assert.Empty(losses);
        Assert.Equal(["job-a", "job-a"], posted.Cast<StartOrdered>().Select(s => s.Order.JobId));
    }

    [Fact]
    public async Task RunAsync_OutageDuringAnAttempt_TheLifecycleRunsItOnceAndKeepsIt()
    {
        var runner = new FakeAttemptRunner();
        var lifecycle = new AttemptLifecycle(runner, time, Silent);
        var feed = Feed(retries: 0, new Opening([StartOf("job-a")], Status(StatusCode.Unavailable)), new Opening([], Status(StatusCode.Unavailable)),
            new Opening([StartOf("job-a")], null));

        await feed.RunAsync(session.Token);
        foreach (var e in posted) await lifecycle.ApplyAsync(e);

        Assert.Single(runner.Runs);
        Assert.Equal(AttemptState.Starting, lifecycle.State);
        Assert.False(runner.Runs[0].Ending.IsCancellationRequested);
    }

    [Fact]
    public async Task RunAsync_InternalErrorsBeyondTheRetries_LosesTheSessionNamingCallStatusAndCount()
    {
        var feed = Feed(retries: 3, [.. Enumerable.Range(0, 10).Select(_ => new Opening([], Status(StatusCode.Internal)))]);

        await feed.RunAsync(session.Token);

        var failure = Assert.IsType<OrchestratorFailingException>(Assert.Single(losses));
        Assert.Contains("Assignments", failure.Message);
        Assert.Contains("Internal", failure.Message);
        Assert.Contains("4 times in a row", failure.Message);
        Assert.Contains("--error-retries", failure.Message);
        Assert.Contains("http://orchestrator:5080", failure.Message);
    }

    [Fact]
    public async Task RunAsync_UnknownErrorsWithinTheRetries_Reconnects()
    {
        var feed = Feed(retries: 3, [.. Enumerable.Range(0, 3).Select(_ => new Opening([], Status(StatusCode.Unknown))), new Opening([StartOf("job-a")], null)]);

        await feed.RunAsync(session.Token);

        Assert.Empty(losses);
        Assert.IsType<StartOrdered>(Assert.Single(posted));
    }

    [Fact]
    public async Task RunAsync_AnOrderBetweenInternalErrors_StartsTheCountAgain()
    {
        var internalError = new Opening([], Status(StatusCode.Internal));
        var feed = Feed(retries: 2, internalError, internalError, new Opening([StartOf("job-a")], Status(StatusCode.Internal)), internalError, new Opening([], null));

        await feed.RunAsync(session.Token);

        Assert.Empty(losses);
    }

    [Fact]
    public async Task RunAsync_InternalAfterTheStreamServedLongEnough_IsALostConnectionNotCounted()
    {
        var broken = new Opening([], Status(StatusCode.Internal), ServedFor: AssignmentFeed.ServedLongEnough);
        var feed = Feed(retries: 1, broken, broken, broken, new Opening([], null));

        await feed.RunAsync(session.Token);

        Assert.Empty(losses);
    }

    [Fact]
    public async Task RunAsync_NotFound_LosesTheSessionToRegisterAgain()
    {
        var feed = Feed(retries: 3, new Opening([], Status(StatusCode.NotFound)));

        await feed.RunAsync(session.Token);

        Assert.Null(Assert.Single(losses));
    }

    [Theory]
    [InlineData(StatusCode.Unauthenticated)]
    [InlineData(StatusCode.PermissionDenied)]
    public async Task RunAsync_RefusedCredentials_LosesTheSessionWithTheTokenToCheck(StatusCode refusal)
    {
        var feed = Feed(retries: 3, new Opening([], Status(refusal)));

        await feed.RunAsync(session.Token);

        var failure = Assert.IsType<OrchestratorRefusedException>(Assert.Single(losses));
        Assert.Contains("SD_WORKER_TOKEN", failure.Message);
    }
}
