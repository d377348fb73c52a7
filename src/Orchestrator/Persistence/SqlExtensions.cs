using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>Small helpers so that SQL reads as SQL beside its caller: <c>connection.Sql("""...""", ("id", id))</c>.</summary>
public static class SqlExtensions
{
    public static NpgsqlCommand Sql(this NpgsqlConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            if (value is NpgsqlParameter typed)
            {
                typed.ParameterName = name;
                command.Parameters.Add(typed);
            }
            else command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        return command;
    }

    public static NpgsqlParameter Jsonb(object value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = value as string ?? JsonSerializer.Serialize(value) };

    public static async Task<int> ExecuteAsync(this NpgsqlConnection connection, string sql, CancellationToken cancellation,
        params (string Name, object? Value)[] parameters)
    {
        await using var command = connection.Sql(sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellation);
    }

    /// <summary>Reads every row through <paramref name="map"/>.</summary>
    public static async Task<List<T>> QueryAsync<T>(this NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> map,
        CancellationToken cancellation, params (string Name, object? Value)[] parameters)
    {
        await using var command = connection.Sql(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellation)) rows.Add(map(reader));
        return rows;
    }

    public static async Task<T?> QuerySingleOrDefaultAsync<T>(this NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> map,
        CancellationToken cancellation, params (string Name, object? Value)[] parameters) =>
        (await connection.QueryAsync(sql, map, cancellation, parameters)) is { Count: > 0 } rows ? rows[0] : default;

    public static DateTime? NullableDateTime(this NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetDateTime(ordinal);

    public static Dictionary<string, T> JsonMap<T>(this NpgsqlDataReader reader, int ordinal) =>
        JsonSerializer.Deserialize<Dictionary<string, T>>(reader.GetString(ordinal)) ?? [];
}
