using Serilog;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Agent;

namespace SpectralDiffusion.Worker.Tests.Agent;

/// <summary>A runner whose attempts end when the test says so (or, if asked, as soon as they are told to end).</summary>
sealed class FakeAttemptRunner(bool endWhenTold = false) : IAttemptRunner
{
    readonly Dictionary<RunningAttempt, TaskCompletionSource<AttemptResult?>> runs = [];
    readonly List<AttemptResult> delivered = [];

    public List<RunningAttempt> Runs { get; } = [];

    public IReadOnlyList<AttemptResult> Delivered
    {
        get { lock (delivered) return [.. delivered]; }
    }

    public Task<AttemptResult?> RunAsync(RunningAttempt attempt)
    {
        var run = new TaskCompletionSource<AttemptResult?>(TaskCreationOptions.RunContinuationsAsynchronously);
        runs[attempt] = run;
        Runs.Add(attempt);
        if (endWhenTold) attempt.Ending.Register(() => run.TrySetResult(null));
        return run.Task;
    }

    public void Finish(RunningAttempt attempt, AttemptResult? result) => runs[attempt].SetResult(result);

    public Task DeliverAsync(AttemptResult result)
    {
        lock (delivered) delivered.Add(result);
        return Task.CompletedTask;
    }
}

static class Orders
{
    public static readonly ILogger Silent = new LoggerConfiguration().CreateLogger();

    public static AssignmentStart Start(string jobId, int attempt = 1) =>
        new() { JobId = jobId, Attempt = attempt, Rank = 0, WorldSize = 1, RendezvousId = $"{jobId}-{attempt}" };

    public static AssignmentAbort Abort(string jobId, int attempt = 1) => new() { JobId = jobId, Attempt = attempt, Reason = "a peer was lost" };

    public static AttemptResult Result(AssignmentStart order) =>
        new() { WorkerId = "w", JobId = order.JobId, Attempt = order.Attempt, Rank = order.Rank, Succeeded = true };

    /// <summary>Applies the next event, which must come soon (the runner's continuations post theirs on the thread pool).</summary>
    public static async Task NextAsync(this AttemptLifecycle lifecycle)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await lifecycle.ExecuteAsync(patience.Token);
    }

    public static async Task ApplyAsync(this AttemptLifecycle lifecycle, LifecycleEvent e)
    {
        lifecycle.Post(e);
        await lifecycle.NextAsync();
    }
}
