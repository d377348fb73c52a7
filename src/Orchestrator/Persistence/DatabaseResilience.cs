using Npgsql;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>
/// Retries with jittered exponential back-off around a circuit breaker, for the PostgreSQL failures that pass:
/// connection loss (NpgsqlException.IsTransient, SQLSTATE class 08), shutdown/restart (57P), serialization
/// failures and deadlocks (40001, 40P01). A database restart of a few seconds is ridden out.
/// </summary>
public static class DatabaseResilience
{
    public const int MaxRetryAttempts = 12;
    public static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(1);

    public static bool IsTransient(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
                                      || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal)
                                      || postgres.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
                                      || postgres.IsTransient,
        NpgsqlException npgsql => npgsql.IsTransient,
        _ => false,
    };

    public static ResiliencePipeline Create(NpgsqlDataSource dataSource, ILogger logger) =>
        new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => IsTransient(e) || e is BrokenCircuitException),
                MaxRetryAttempts = MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = BaseDelay,
                MaxDelay = MaxDelay,
                OnRetry = args =>
                {
                    // Pooled connections to a restarted server are dead; drop the idle ones.
                    dataSource.Clear();
                    logger.LogWarning("PostgreSQL call failed ({Error}); retry {Retry} in {Delay}",
                        args.Outcome.Exception?.Message, args.AttemptNumber + 1, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
                FailureRatio = 0.5,
                MinimumThroughput = 10,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = BreakDuration,
                OnOpened = args =>
                {
                    logger.LogError("PostgreSQL circuit opened for {BreakDuration}", args.BreakDuration);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
}
