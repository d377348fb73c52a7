using Npgsql;

namespace SpectralDiffusion.EndToEnd.Tests.Infrastructure;

/// <summary>A fresh database on the test PostgreSQL (<c>SD_TEST_DATABASE</c>); dropped on dispose.</summary>
public sealed class EndToEndDatabase : IAsyncDisposable
{
    static string Server => Environment.GetEnvironmentVariable("SD_TEST_DATABASE") ?? "Host=127.0.0.1;Port=55432;Username=postgres;Database=spectral";

    EndToEndDatabase(string name) => (Name, ConnectionString) = (name, new NpgsqlConnectionStringBuilder(Server) { Database = name }.ConnectionString);

    public string Name { get; }
    public string ConnectionString { get; }

    public static async Task<EndToEndDatabase> CreateAsync()
    {
        var database = new EndToEndDatabase($"sd_e2e_{Guid.NewGuid():N}");
        await using var connection = new NpgsqlConnection(Server);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Name}\"", connection);
        await create.ExecuteNonQueryAsync();
        return database;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(Server);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
