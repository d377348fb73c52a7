using Npgsql;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>
/// Fences the loops' writes with the orchestrator term kept in the database (<c>orchestrator_term</c>). A takeover
/// advances the term on the lock's connection while it holds the lock (<see cref="AdvanceAsync"/>); every transaction of
/// a loop iteration (<see cref="RunAsync"/>) first confirms its term under a share lock (<see cref="EnsureCurrentAsync(NpgsqlConnection, long, CancellationToken)"/>).
/// The takeover's update waits for those share locks, so a write of a former active orchestrator (frozen mid-iteration,
/// or cut off from PostgreSQL) commits before the new term starts or is refused; none lands after the takeover.
/// </summary>
public static class TermFence
{
    /// <summary>The iteration's term; cleared when the iteration ends, so work it started that outlives it is not fenced.</summary>
    sealed class Fence(long term)
    {
        public long? Term { get; set; } = term;
    }

    static readonly AsyncLocal<Fence?> current = new();

    /// <summary>The term that transactions begun on this flow are fenced with; null outside a loop iteration.</summary>
    public static long? Current => current.Value?.Term;

    /// <summary>Runs one loop iteration as <paramref name="term"/>'s: every transaction it begins is fenced.</summary>
    public static async Task<T> RunAsync<T>(long term, Func<Task<T>> iteration)
    {
        var fence = new Fence(term);
        current.Value = fence;
        try
        {
            return await iteration();
        }
        finally
        {
            fence.Term = null;
        }
    }

    /// <summary>Within a loop iteration, <see cref="EnsureCurrentAsync(NpgsqlConnection, long, CancellationToken)"/> with its
    /// term; call it first in every transaction. Outside one it does nothing.</summary>
    public static Task EnsureCurrentAsync(NpgsqlConnection connection, CancellationToken cancellation) =>
        Current is { } term ? EnsureCurrentAsync(connection, term, cancellation) : Task.CompletedTask;

    /// <summary>Throws <see cref="TermEndedException"/> unless <paramref name="term"/> is still the current one; holds a share
    /// lock on the term until the transaction ends, so no takeover happens before this transaction commits.</summary>
    public static async Task EnsureCurrentAsync(NpgsqlConnection connection, long term, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand("SELECT true FROM orchestrator_term WHERE term = @term FOR SHARE", connection);
        command.Parameters.AddWithValue("term", term);
        if (await command.ExecuteScalarAsync(cancellation) is null) throw new TermEndedException(term);
    }

    /// <summary>
    /// Starts a new term; call it holding the orchestrator lock. Sessions still holding a lock on the term are a former
    /// term's transactions (nobody else holds the orchestrator lock): they are ended, since a frozen holder would otherwise
    /// keep the takeover waiting for as long as its socket looks alive; what they had not committed is rolled back.
    /// </summary>
    public static async Task<long> AdvanceAsync(NpgsqlConnection lockConnection, CancellationToken cancellation)
    {
        await using (var end = new NpgsqlCommand("""
            SELECT count(pg_terminate_backend(pid)) FROM pg_locks
            WHERE locktype = 'relation' AND relation = 'orchestrator_term'::regclass AND pid <> pg_backend_pid()
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """, lockConnection))
            await end.ExecuteScalarAsync(cancellation);
        await using var advance = new NpgsqlCommand("UPDATE orchestrator_term SET term = term + 1 RETURNING term", lockConnection);
        return (long)(await advance.ExecuteScalarAsync(cancellation))!;
    }
}

/// <summary>A loop's write was refused: its term ended, another orchestrator (or a later term of this one) is active.</summary>
public sealed class TermEndedException(long term)
    : Exception($"orchestrator term {term} has ended (another orchestrator took over); the write was refused and rolled back")
{
    public long Term { get; } = term;
}
