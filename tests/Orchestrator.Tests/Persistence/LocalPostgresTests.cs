using Npgsql;

namespace SpectralDiffusion.Orchestrator.Tests.Persistence;

public class LocalPostgresTests
{
    [Fact]
    public async Task CreateTable_InsertRow_ReadsItBack()
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString);
        await connection.OpenAsync();
        var table = $"smoke_{Guid.NewGuid():N}";

        await using (var create = new NpgsqlCommand($"CREATE TEMP TABLE {table} (id int PRIMARY KEY, name text NOT NULL)", connection))
            await create.ExecuteNonQueryAsync();
        await using (var insert = new NpgsqlCommand($"INSERT INTO {table} VALUES (@id, @name)", connection))
        {
            insert.Parameters.AddWithValue("id", 42);
            insert.Parameters.AddWithValue("name", "wavelet");
            await insert.ExecuteNonQueryAsync();
        }
        await using var select = new NpgsqlCommand($"SELECT name FROM {table} WHERE id = 42", connection);
        var name = (string?)await select.ExecuteScalarAsync();

        Assert.Equal("wavelet", name);
    }
}
