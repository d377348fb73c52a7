using System.Collections;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Npgsql;
using SpectralDiffusion.Shared.Jobs;

namespace SpectralDiffusion.Orchestrator.Tests;

/// <summary>
/// Seeded random inputs for fuzzing the RPCs: hostile strings (NUL, unicode, lone surrogates, 100 KB, paths and
/// references), extreme numbers, undefined enum numbers, and a mutator that sets random fields of any protobuf message
/// by reflection. Every draw comes from one <see cref="Random"/>, so a seed reproduces a run.
/// </summary>
public sealed class Fuzz(int seed)
{
    readonly Random random = new(seed);

    public int Seed { get; } = seed;
    public List<string> KnownIds { get; } = [];

    public bool Chance(double p) => random.NextDouble() < p;
    public int Next(int max) => random.Next(max);
    public int Next(int min, int max) => random.Next(min, max);
    public T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    public string String()
    {
        switch (random.Next(20))
        {
            case 0: return "";
            case 1: return "name\0with\0nul";
            case 2: return "Ünïcødé ✓ 😀 مرحبا 𝔘\u200b\u202e";
            case 3: return "\ud800lone surrogate";
            case 4: return Chance(0.3) ? new string('x', 100_000) : new string('y', random.Next(200, 5000));
            case 5: return "\u0001\u001f\n\t\r";
            case 6: return Pick(["../../etc/passwd", "/etc/passwd", "/srv/fuzz-data/weights.safetensors", "~/x", "s3://bucket/k",
                "data/../..", "ffhq/train", "/srv/fuzz-data/../etc", ".", "/"]);
            case 7: return "job:" + (KnownIds.Count > 0 && Chance(0.5) ? Pick(KnownIds) : Chance(0.5) ? Guid.NewGuid().ToString() : "42");
            case 8: return "artifact:" + (Chance(0.5) ? Convert.ToHexStringLower(Bytes(32)) : "ZZ" + new string('0', 62));
            case 9: return Pick(KnownPresets.All);
            case 10: return Guid.NewGuid().ToString();
            case 11: return KnownIds.Count > 0 ? Pick(KnownIds) : Guid.NewGuid().ToString("B").ToUpperInvariant();
            case 12: return Pick(["99", "-1", "NaN", "1e400", "true", "null", "{}", "[]", "'; DROP TABLE jobs; --"]);
            default: return new string(Enumerable.Range(0, random.Next(1, 24)).Select(_ => (char)random.Next(32, 127)).ToArray());
        }
    }

    public int Int() => random.Next(8) switch
    {
        0 => int.MinValue, 1 => int.MaxValue, 2 => -1, 3 => 0, 4 => 1, 5 => Pick([2, 7, 8, 9, 32, 64, 99, 1000]),
        _ => random.Next(-1000, 1000),
    };

    public long Long() => random.Next(6) switch
    {
        0 => long.MinValue, 1 => long.MaxValue, 2 => -1, 3 => 0, _ => random.NextInt64(-1_000_000, 1_000_000),
    };

    public double Double() => random.Next(9) switch
    {
        0 => double.NaN, 1 => double.PositiveInfinity, 2 => double.NegativeInfinity, 3 => -0.0, 4 => double.MaxValue,
        5 => double.Epsilon, 6 => -1, _ => random.NextDouble() * Pick([1.0, 10, 1e6]),
    };

    public byte[] Bytes(int length) => Enumerable.Range(0, length).Select(_ => (byte)random.Next(256)).ToArray();

    object Value(FieldDescriptor field) => field.FieldType switch
    {
        FieldType.String => String(),
        FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => Int(),
        FieldType.UInt32 or FieldType.Fixed32 => (uint)Int(),
        FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => Long(),
        FieldType.UInt64 or FieldType.Fixed64 => (ulong)Long(),
        FieldType.Double => Double(),
        FieldType.Float => (float)Double(),
        FieldType.Bool => Chance(0.5),
        FieldType.Bytes => ByteString.CopyFrom(Bytes(random.Next(0, 64))),
        FieldType.Enum => Enum.ToObject(field.EnumType.ClrType, Pick([-1, 0, 1, 2, 3, 6, 77, 99, int.MaxValue])),
        FieldType.Message => Mutated((IMessage)Activator.CreateInstance(field.MessageType.ClrType)!, 2),
        _ => throw new NotSupportedException(field.FieldType.ToString()),
    };

    /// <summary>Applies <paramref name="mutations"/> random changes to <paramref name="message"/> (at any depth) and returns it.</summary>
    public T Mutated<T>(T message, int mutations) where T : IMessage
    {
        for (var i = 0; i < mutations; i++) Mutate(message, depth: 0);
        return message;
    }

    void Mutate(IMessage message, int depth)
    {
        var fields = message.Descriptor.Fields.InDeclarationOrder();
        if (fields.Count == 0) return;
        var field = fields[random.Next(fields.Count)];
        if (field.IsMap)
        {
            var map = (IDictionary)field.Accessor.GetValue(message);
            var (keyField, valueField) = (field.MessageType.FindFieldByNumber(1), field.MessageType.FindFieldByNumber(2));
            if (Chance(0.2)) map.Clear();
            else map[Value(keyField)] = Value(valueField);
        }
        else if (field.IsRepeated)
        {
            var list = (IList)field.Accessor.GetValue(message);
            if (Chance(0.2)) list.Clear();
            else list.Add(Value(field));
        }
        else if (field.FieldType == FieldType.Message)
        {
            if (field.Accessor.GetValue(message) is IMessage child && depth < 4 && !Chance(0.15)) Mutate(child, depth + 1);
            else if (Chance(0.5)) field.Accessor.Clear(message);
            else field.Accessor.SetValue(message, Value(field));
        }
        else field.Accessor.SetValue(message, Value(field));
    }

    /// <summary>Runs one call: whether it was accepted, else the status it was refused with.</summary>
    public static async Task<(bool Accepted, StatusCode Code, string Detail)> CallAsync(Func<Task> call)
    {
        try
        {
            await call();
            return (true, StatusCode.OK, "");
        }
        catch (RpcException e)
        {
            return (false, e.StatusCode, e.Status.Detail);
        }
    }

    /// <summary>The row count of every table: a rejected call must leave each unchanged.</summary>
    public static async Task<string> RowCountsAsync(string connectionString)
    {
        const string sql = """
            SELECT format('jobs=%s attempts=%s ranks=%s workers=%s metrics=%s artifacts=%s checkpoints=%s shards=%s evaluations=%s',
                (SELECT count(*) FROM jobs), (SELECT count(*) FROM attempts), (SELECT count(*) FROM attempt_ranks),
                (SELECT count(*) FROM workers), (SELECT count(*) FROM metrics), (SELECT count(*) FROM artifacts),
                (SELECT count(*) FROM checkpoints), (SELECT count(*) FROM checkpoint_shards), (SELECT count(*) FROM evaluations))
            """;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    public static string Show(IMessage message)
    {
        var json = JsonFormatter.ToDiagnosticString(message);
        return json.Length <= 400 ? json : json[..400] + $"… ({json.Length} characters)";
    }
}
