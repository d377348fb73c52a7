using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Training;

/// <summary>
/// Reads and writes the safetensors format (8-byte little-endian header length, a JSON header with
/// dtype/shape/data_offsets per tensor and optional string <c>__metadata__</c>, then the raw bytes),
/// keeping the metadata that training checkpoints need. Writes go to a temp file and are renamed,
/// so a crash never leaves a half-written file under the final name.
/// </summary>
public static class SafetensorsArchive
{
    const long MaxHeaderBytes = 100L << 20;

    static readonly Dictionary<ScalarType, (string Name, int Size)> Types = new()
    {
        [ScalarType.Float32] = ("F32", 4), [ScalarType.Float64] = ("F64", 8), [ScalarType.Float16] = ("F16", 2),
        [ScalarType.BFloat16] = ("BF16", 2), [ScalarType.Int64] = ("I64", 8), [ScalarType.Int32] = ("I32", 4),
        [ScalarType.Int16] = ("I16", 2), [ScalarType.Int8] = ("I8", 1), [ScalarType.Byte] = ("U8", 1), [ScalarType.Bool] = ("BOOL", 1),
    };

    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = File.Create(temporary)) Write(stream, tensors, metadata);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
            header["__metadata__"] = new JsonObject(metadata.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)JsonValue.Create(m.Value))));
        var payloads = new List<byte[]>();
        long offset = 0;
        foreach (var (name, tensor) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            if (!Types.TryGetValue(tensor.dtype, out var type))
                throw new NotSupportedException($"tensor '{name}': dtype {tensor.dtype} cannot be stored in safetensors");
            var bytes = ToBytes(tensor);
            header[name] = new JsonObject
            {
                ["dtype"] = type.Name,
                ["shape"] = new JsonArray(tensor.shape.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
                ["data_offsets"] = new JsonArray(JsonValue.Create(offset), JsonValue.Create(offset + bytes.Length)),
            };
            offset += bytes.Length;
            payloads.Add(bytes);
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        var padding = (8 - json.Length % 8) % 8;
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)(json.Length + padding));
        stream.Write(length);
        stream.Write(json);
        for (int i = 0; i < padding; i++) stream.WriteByte((byte)' ');
        foreach (var payload in payloads) stream.Write(payload);
    }

    /// <summary>Reads every tensor (on CPU) and the metadata; errors name the file and what is wrong.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"safetensors file not found: {path}", path);
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Read(Stream stream, string description)
    {
        var lengthBytes = new byte[8];
        if (stream.ReadAtLeast(lengthBytes, 8, throwOnEndOfStream: false) < 8)
            throw new InvalidDataException($"{description}: not a safetensors file (shorter than its 8-byte header length)");
        var headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength <= 0 || headerLength > MaxHeaderBytes)
            throw new InvalidDataException($"{description}: not a safetensors file (header length {headerLength})");
        var headerBytes = new byte[headerLength];
        if (stream.ReadAtLeast(headerBytes, (int)headerLength, throwOnEndOfStream: false) < headerLength)
            throw new InvalidDataException($"{description}: truncated safetensors header");
        JsonObject header;
        try { header = JsonNode.Parse(headerBytes)!.AsObject(); }
        catch (JsonException e) { throw new InvalidDataException($"{description}: corrupt safetensors header ({e.Message})"); }

        var metadata = new Dictionary<string, string>();
        if (header["__metadata__"] is JsonObject meta)
            foreach (var (key, value) in meta) metadata[key] = value?.GetValue<string>() ?? "";

        var entries = header.Where(h => h.Key != "__metadata__")
            .Select(h => (Name: h.Key, Info: h.Value!.AsObject()))
            .Select(e => (e.Name, e.Info, Start: e.Info["data_offsets"]![0]!.GetValue<long>(), End: e.Info["data_offsets"]![1]!.GetValue<long>()))
            .OrderBy(e => e.Start).ToList();
        var dataLength = entries.Count == 0 ? 0 : entries.Max(e => e.End);
        var data = new byte[dataLength];
        if (stream.ReadAtLeast(data, (int)dataLength, throwOnEndOfStream: false) < dataLength)
            throw new InvalidDataException($"{description}: truncated (expected {dataLength} bytes of tensor data)");

        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, info, start, end) in entries)
        {
            var dtypeName = info["dtype"]!.GetValue<string>();
            var type = Types.FirstOrDefault(t => t.Value.Name == dtypeName);
            if (type.Value.Name is null) throw new InvalidDataException($"{description}: tensor '{name}' has unsupported dtype {dtypeName}");
            var shape = info["shape"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray();
            var expected = shape.Aggregate(1L, (a, b) => a * b) * type.Value.Size;
            if (end - start != expected || start < 0)
                throw new InvalidDataException($"{description}: tensor '{name}' spans {end - start} bytes but shape [{string.Join(", ", shape)}] needs {expected}");
            tensors[name] = FromBytes(new ReadOnlySpan<byte>(data, (int)start, (int)(end - start)), type.Key, shape);
        }
        return (tensors, metadata);
    }

    static byte[] ToBytes(Tensor tensor)
    {
        using var cpu = tensor.detach().cpu().contiguous();
        var bytes = new byte[cpu.NumberOfElements * cpu.ElementSize];
        cpu.bytes.CopyTo(bytes);
        return bytes;
    }

    static Tensor FromBytes(ReadOnlySpan<byte> bytes, ScalarType type, long[] shape)
    {
        var tensor = empty(shape, dtype: type);
        bytes.CopyTo(tensor.bytes);
        return tensor;
    }
}
