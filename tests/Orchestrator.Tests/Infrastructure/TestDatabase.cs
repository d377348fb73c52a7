using Npgsql;

namespace SpectralDiffusion.Orchestrator.Tests;

/// <summary>The PostgreSQL the tests use: <c>SD_TEST_DATABASE</c> (set by .ci/run and deploy/local/postgres.sh), else the local default.</summary>
public static class TestDatabase
{
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable("SD_TEST_DATABASE")
        ?? "Host=127.0.0.1;Port=55432;Username=postgres;Database=spectral";

    /// <summary>Creates an empty database with a unique name on the test cluster; dispose to drop it.</summary>
    public static async Task<FreshDatabase> CreateFreshAsync()
    {
        var name = $"sd_test_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new FreshDatabase(name, new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString);
    }
}

/// <summary>A database of one test class; dropped (connections forced off) on dispose.</summary>
public sealed class FreshDatabase(string name, string connectionString) : IAsyncDisposable
{
    public string Name { get; } = name;
    public string ConnectionString { get; } = connectionString;

    /// <summary>One value from a query, on an unpooled connection (a pooled one may be stale after a cluster restart).</summary>
    public async Task<T?> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default : (T)value;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
