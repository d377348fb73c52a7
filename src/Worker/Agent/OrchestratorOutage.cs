using Grpc.Core;
using Polly;
using Polly.Retry;
using Serilog;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>
/// Rides out the orchestrator's absence during an attempt (it restarts, or its database is down): a report, upload or
/// download that gets UNAVAILABLE is made again with back-off until it passes, the attempt is stopped or aborted, or
/// <c>limit</c> has passed. The orchestrator takes each of these calls twice without harm (idempotent reports,
/// content-addressed uploads), so training goes on where it was instead of losing the attempt.
/// </summary>
public static class OrchestratorOutage
{
    public static readonly TimeSpan DefaultLimit = TimeSpan.FromMinutes(10);

    public static ResiliencePipeline Create(TimeSpan limit, ILogger log) => new ResiliencePipelineBuilder()
        .AddTimeout(limit)
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<RpcException>(e => e.StatusCode == StatusCode.Unavailable),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(500),
            MaxDelay = TimeSpan.FromSeconds(2),
            MaxRetryAttempts = int.MaxValue,
            OnRetry = arguments =>
            {
                if (arguments.AttemptNumber == 0)
                    log.Warning("Orchestrator unavailable ({Detail}); the call is repeated until it answers (at most {Limit})",
                        (arguments.Outcome.Exception as RpcException)?.Status.Detail, limit);
                return ValueTask.CompletedTask;
            },
        })
        .Build();
}
