using Npgsql;
using SpectralDiffusion.Orchestrator.Persistence;

namespace SpectralDiffusion.Orchestrator.Standby;

/// <summary>
/// The PostgreSQL session advisory lock that makes one orchestrator the active one, held on a connection of its own
/// (not pooled). PostgreSQL frees it when that session ends: the process died, or its connection broke. The session's
/// <c>application_name</c> carries the holder's advertised address, so a standby can say who is active. The server
/// ends a session that goes silent within <see cref="SilentSessionLimit"/> (TCP keep-alives and a user timeout on the
/// lock's connection), so a lock whose holder was cut off frees within about a lease.
/// </summary>
public sealed class ActiveLock(string connectionString, string advertisedAddress) : IAsyncDisposable
{
    /// <summary>The lock's key: one per database, so every orchestrator of a database contends for the same lock.</summary>
    public const long Key = 0x5344_4F52; // "SDOR"
    public const string ApplicationPrefix = "spectral-orchestrator ";
    public static readonly TimeSpan SilentSessionLimit = TimeSpan.FromSeconds(8);

    NpgsqlConnection? connection;

    /// <summary>Takes the lock if it is free; true when this session holds it.</summary>
    public async Task<bool> TryAcquireAsync(CancellationToken cancellation)
    {
        connection ??= await OpenAsync(cancellation);
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
            command.Parameters.AddWithValue("key", Key);
            return (bool)(await command.ExecuteScalarAsync(cancellation))!;
        }
        catch
        {
            await ReleaseAsync();
            throw;
        }
    }

    /// <summary>Throws unless this session still holds the lock (its connection answers and the lock is granted to it).</summary>
    public async Task EnsureHeldAsync(CancellationToken cancellation)
    {
        if (connection is null) throw new InvalidOperationException("the orchestrator lock is not held");
        await using var command = new NpgsqlCommand("""
            SELECT count(*) FROM pg_locks
            WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND classid = 0 AND objid::bigint = @key AND objsubid = 1
            """, connection);
        command.Parameters.AddWithValue("key", Key);
        if ((long)(await command.ExecuteScalarAsync(cancellation))! != 1)
            throw new InvalidOperationException("the orchestrator lock is no longer held by this session");
    }

    /// <summary>Starts a new orchestrator term on the lock's session (<see cref="TermFence.AdvanceAsync"/>); call it holding the lock.</summary>
    public Task<long> AdvanceTermAsync(CancellationToken cancellation) =>
        connection is null ? throw new InvalidOperationException("the orchestrator lock is not held") : TermFence.AdvanceAsync(connection, cancellation);

    /// <summary>The advertised address of the session that holds the lock; null when nobody holds it.</summary>
    public async Task<string?> HolderAsync(CancellationToken cancellation)
    {
        connection ??= await OpenAsync(cancellation);
        await using var command = new NpgsqlCommand("""
            SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid::bigint = @key AND l.objsubid = 1
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """, connection);
        command.Parameters.AddWithValue("key", Key);
        return await command.ExecuteScalarAsync(cancellation) is string name
            ? name.StartsWith(ApplicationPrefix, StringComparison.Ordinal) ? name[ApplicationPrefix.Length..] : name
            : null;
    }

    /// <summary>Closes the session, which frees the lock if it is held.</summary>
    public async Task ReleaseAsync()
    {
        if (connection is null) return;
        var closing = connection;
        connection = null;
        try { await closing.DisposeAsync(); }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException) { }
    }

    public ValueTask DisposeAsync() => new(ReleaseAsync());

    async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellation)
    {
        var limit = (int)SilentSessionLimit.TotalSeconds;
        var settings = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false,
            ApplicationName = (ApplicationPrefix + advertisedAddress)[..Math.Min(63, ApplicationPrefix.Length + advertisedAddress.Length)],
            // The server drops this session (and frees the lock) when its holder stops answering: keep-alives from the
            // server's side after 2 s of silence, and unacknowledged data for at most the limit.
            Options = $"{new NpgsqlConnectionStringBuilder(connectionString).Options} -c tcp_keepalives_idle=2 -c tcp_keepalives_interval=1 -c tcp_keepalives_count={limit - 2} -c tcp_user_timeout={limit * 1000}".Trim(),
            KeepAlive = 1,
            Timeout = 5,
            CommandTimeout = 5,
        };
        var opened = new NpgsqlConnection(settings.ConnectionString);
        try
        {
            await opened.OpenAsync(cancellation);
            return opened;
        }
        catch
        {
            await opened.DisposeAsync();
            throw;
        }
    }
}
