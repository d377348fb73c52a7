using Npgsql;
using Polly;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>
/// The unit of work: every call opens a connection (and a transaction for writes) inside the resilience pipeline, so a
/// transient failure re-runs the whole unit. Work passed here must only touch the database; effects on the outside
/// world (streams, events) happen after it returns. Within a loop iteration (<see cref="TermFence.RunAsync"/>) every
/// write is a transaction that first confirms the orchestrator term.
/// </summary>
public sealed class Database(NpgsqlDataSource dataSource, ResiliencePipeline pipeline)
{
    public NpgsqlDataSource DataSource => dataSource;

    public async Task<T> TransactAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellation) =>
        await pipeline.ExecuteAsync(async token =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(token);
            await using var transaction = await connection.BeginTransactionAsync(token);
            await TermFence.EnsureCurrentAsync(connection, token);
            var result = await work(connection, token);
            await transaction.CommitAsync(token);
            return result;
        }, cancellation);

    /// <summary>A write that is one statement, atomic on its own: no transaction to begin and commit (one round trip).</summary>
    public Task<T> StatementAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellation) =>
        TermFence.Current is null ? ReadAsync(work, cancellation) : TransactAsync(work, cancellation);

    public async Task<T> ReadAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellation) =>
        await pipeline.ExecuteAsync(async token =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(token);
            return await work(connection, token);
        }, cancellation);
}
