using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Models;

/// <summary>
/// The safetensors format (8-byte little-endian header length, JSON header, raw little-endian data), with the optional
/// <c>__metadata__</c> string map. Read and written here so that truncated files and metadata get clear handling.
/// </summary>
public static class SafetensorsFile
{
    const string MetadataKey = "__metadata__";
    const long MaxHeaderBytes = 100 * 1024 * 1024;

    static readonly Dictionary<string, ScalarType> DTypes = new()
    {
        ["F64"] = ScalarType.Float64, ["F32"] = ScalarType.Float32, ["F16"] = ScalarType.Float16, ["BF16"] = ScalarType.BFloat16,
        ["I64"] = ScalarType.Int64, ["I32"] = ScalarType.Int32, ["I16"] = ScalarType.Int16, ["I8"] = ScalarType.Int8,
        ["U8"] = ScalarType.Byte, ["BOOL"] = ScalarType.Bool,
    };

    /// <summary>Reads every tensor (on the CPU) and the metadata; a malformed or truncated file is a <see cref="CheckpointFormatException"/>.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        CheckpointFormatException.RequireFile(path);
        using var stream = File.OpenRead(path);
        var (header, dataStart) = ReadHeader(stream, path);
        var tensors = new Dictionary<string, Tensor>();
        var metadata = new Dictionary<string, string>();
        try
        {
            foreach (var (key, node) in header)
            {
                if (key == MetadataKey)
                {
                    foreach (var (name, value) in node!.AsObject()) metadata[name] = value!.GetValue<string>();
                    continue;
                }
                var dtypeName = node!["dtype"]!.GetValue<string>();
                if (!DTypes.TryGetValue(dtypeName, out var dtype))
                    throw new CheckpointFormatException(path, $"tensor '{key}' has unsupported dtype {dtypeName}");
                var shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
                var offsets = node["data_offsets"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
                var length = offsets[1] - offsets[0];
                if (offsets[0] < 0 || length < 0 || dataStart + offsets[1] > stream.Length)
                    throw new CheckpointFormatException(path, $"tensor '{key}' lies beyond the end of the file (truncated?)");
                var tensor = empty(shape, dtype);
                if (length != tensor.NumberOfElements * tensor.ElementSize)
                    throw new CheckpointFormatException(path, $"tensor '{key}' holds {length} bytes but its shape and dtype need {tensor.NumberOfElements * tensor.ElementSize}");
                var bytes = new byte[length];
                stream.Position = dataStart + offsets[0];
                stream.ReadExactly(bytes);
                tensor.bytes = bytes;
                tensors[key] = tensor;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException or EndOfStreamException or KeyNotFoundException)
        {
            throw new CheckpointFormatException(path, $"malformed safetensors header ({e.Message})", e);
        }
        return (tensors, metadata);
    }

    /// <summary>Reads only the metadata map.</summary>
    public static Dictionary<string, string> ReadMetadata(string path)
    {
        CheckpointFormatException.RequireFile(path);
        using var stream = File.OpenRead(path);
        var (header, _) = ReadHeader(stream, path);
        return header[MetadataKey] is JsonObject metadata
            ? metadata.ToDictionary(m => m.Key, m => m.Value!.GetValue<string>())
            : new Dictionary<string, string>();
    }

    /// <summary>Writes the tensors (moved to the CPU) and metadata to a temporary file, then renames it over <paramref name="path"/>.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 }) header[MetadataKey] = new JsonObject(metadata.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)JsonValue.Create(m.Value))));
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (key, tensor) in tensors)
        {
            using var cpu = tensor.detach().cpu().contiguous();
            var dtypeName = DTypes.FirstOrDefault(d => d.Value == cpu.dtype).Key
                ?? throw new ArgumentException($"tensor '{key}' has dtype {cpu.dtype}, which safetensors cannot hold", nameof(tensors));
            var bytes = cpu.bytes.ToArray();
            header[key] = new JsonObject
            {
                ["dtype"] = dtypeName,
                ["shape"] = new JsonArray(cpu.shape.Select(d => (JsonNode?)JsonValue.Create(d)).ToArray()),
                ["data_offsets"] = new JsonArray(JsonValue.Create(offset), JsonValue.Create(offset + bytes.Length)),
            };
            offset += bytes.Length;
            blobs.Add(bytes);
        }
        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padding = (8 - headerBytes.Length % 8) % 8; // the format pads the header with spaces to 8-byte alignment
        headerBytes = [.. headerBytes, .. Enumerable.Repeat((byte)' ', padding)];

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = File.Create(temporary))
            {
                stream.Write(BitConverter.GetBytes((ulong)headerBytes.Length));
                stream.Write(headerBytes);
                foreach (var blob in blobs) stream.Write(blob);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    static (JsonObject Header, long DataStart) ReadHeader(Stream stream, string path)
    {
        var lengthBytes = new byte[8];
        if (stream.Read(lengthBytes) != 8)
            throw new CheckpointFormatException(path, "file is shorter than the 8-byte safetensors header length (truncated or not safetensors)");
        var length = BitConverter.ToInt64(lengthBytes);
        if (length <= 0 || length > MaxHeaderBytes || 8 + length > stream.Length)
            throw new CheckpointFormatException(path, $"header length {length} does not fit a file of {stream.Length} bytes (truncated or not safetensors)");
        var json = new byte[length];
        stream.ReadExactly(json);
        try
        {
            return (JsonNode.Parse(json)!.AsObject(), 8 + length);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException)
        {
            throw new CheckpointFormatException(path, $"header is not a JSON object ({e.Message})", e);
        }
    }
}

/// <summary>A checkpoint file that is missing, truncated or not in a format we read; the message names the file.</summary>
public sealed class CheckpointFormatException : Exception
{
    public CheckpointFormatException(string path, string reason, Exception? inner = null) : base($"{path}: {reason}", inner) => FilePath = path;

    public string FilePath { get; }

    public static void RequireFile(string path)
    {
        if (!File.Exists(path)) throw new CheckpointFormatException(path, "file not found");
    }
}
