using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Standby;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>The loops' writes are fenced with the orchestrator term: a former active orchestrator cannot write after a takeover.</summary>
public class TermFenceTests
{
    static readonly TimeSpan Takeover = TimeSpan.FromSeconds(20);
    const string StaleTick = "2000-01-01T00:00:00Z";
    const string WriteStaleTick = $"UPDATE lease_clock SET last_tick = '{StaleTick}'";

    [Fact]
    public async Task LoopWrite_FormerActiveAfterTakeover_IsRefusedAndNotStored()
    {
        // Arrange: the first one's lock session breaks and a takeover follows (the second one's, as a rule).
        await using var database = await TestDatabase.CreateFreshAsync();
        await using var first = await OrchestratorServer.StartAsync(database, StandbyTests.Advertised("first:5080"));
        await using var second = await OrchestratorServer.StartAsync(database, StandbyTests.Advertised("second:5080"));
        var formerTerm = first.Services.GetRequiredService<Leadership>().FencingTerm;
        await StandbyTests.TerminateLockSessionAsync(database, "first:5080");
        var currentTerm = await Eventually.ReturnsAsync(() => database.ScalarAsync<long>("SELECT term FROM orchestrator_term"), term => term > formerTerm,
            Takeover, "a takeover");

        // Act: a loop iteration of the first one that was under way writes with its term.
        var refused = await Assert.ThrowsAsync<TermEndedException>(() => TermFence.RunAsync(formerTerm,
            () => first.Services.GetRequiredService<Database>().TransactAsync((connection, token) => connection.ExecuteAsync(WriteStaleTick, token), default)));

        // Assert: refused and not stored.
        Assert.Equal(formerTerm, refused.Term);
        Assert.True(formerTerm > 0, $"terms {formerTerm} then {currentTerm}");
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT count(*) FROM lease_clock WHERE last_tick = '{StaleTick}'"));
    }

    [Fact]
    public async Task Advance_FormerTermTransactionOpen_EndsItAndItsWriteIsRolledBack()
    {
        // Arrange: a migrated database; a transaction of the current term has written and not committed (its process froze).
        await using var database = await TestDatabase.CreateFreshAsync();
        var server = await OrchestratorServer.StartAsync(database);
        var term = server.Services.GetRequiredService<Leadership>().FencingTerm;
        await server.DisposeAsync();
        await using var frozen = new NpgsqlConnection(database.ConnectionString + ";Pooling=false");
        await frozen.OpenAsync();
        await using var transaction = await frozen.BeginTransactionAsync();
        await TermFence.EnsureCurrentAsync(frozen, term, default);
        await frozen.ExecuteAsync(WriteStaleTick, default);

        // Act: a takeover advances the term.
        await using var taker = new NpgsqlConnection(database.ConnectionString + ";Pooling=false");
        await taker.OpenAsync();
        var next = await TermFence.AdvanceAsync(taker, default).WaitAsync(Takeover);

        // Assert: the frozen transaction cannot commit, and its write is gone.
        Assert.Equal(term + 1, next);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => transaction.CommitAsync());
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT count(*) FROM lease_clock WHERE last_tick = '{StaleTick}'"));
    }
}
