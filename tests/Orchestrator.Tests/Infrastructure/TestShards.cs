using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace SpectralDiffusion.Orchestrator.Tests;

/// <summary>
/// Checkpoint shards as the worker writes them (safetensors: 8-byte little-endian header length, a JSON header with
/// the metadata map, the raw data), built from plain float arrays, and read back into (metadata, tensor bytes).
/// </summary>
public static class TestShards
{
    /// <summary>The shard of <paramref name="rank"/>: tensor i of the sorted names goes to rank i mod <paramref name="worldSize"/>.</summary>
    public static byte[] Write(IReadOnlyDictionary<string, float[]> tensors, int rank, int worldSize, long step)
    {
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        var mine = names.Where((_, i) => i % worldSize == rank).ToList();
        var header = new JsonObject
        {
            ["__metadata__"] = new JsonObject
            {
                ["format"] = "spectral-diffusion-training-shard/1", ["step"] = step.ToString(), ["seed"] = "7", ["ema_updates"] = "3",
                ["rank"] = rank.ToString(), ["world_size"] = worldSize.ToString(), ["tensor_count"] = names.Count.ToString(), ["preset"] = "tiny-ldm",
            },
        };
        var data = new MemoryStream();
        foreach (var name in mine)
        {
            var bytes = tensors[name].SelectMany(BitConverter.GetBytes).ToArray();
            header[name] = new JsonObject
            {
                ["dtype"] = "F32", ["shape"] = new JsonArray(tensors[name].Length),
                ["data_offsets"] = new JsonArray(data.Length, data.Length + bytes.Length),
            };
            data.Write(bytes);
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var file = new MemoryStream();
        file.Write(BitConverter.GetBytes((ulong)json.Length));
        file.Write(json);
        data.WriteTo(file);
        return file.ToArray();
    }

    /// <summary>The metadata and each tensor's values of a safetensors file.</summary>
    public static (Dictionary<string, string> Metadata, Dictionary<string, float[]> Tensors) Read(byte[] file)
    {
        var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        var header = JsonNode.Parse(file.AsSpan(8, length))!.AsObject();
        var metadata = header["__metadata__"]!.AsObject().ToDictionary(m => m.Key, m => m.Value!.GetValue<string>());
        var tensors = new Dictionary<string, float[]>();
        foreach (var (name, entry) in header)
        {
            if (name == "__metadata__") continue;
            var offsets = entry!["data_offsets"]!.AsArray().Select(o => o!.GetValue<int>()).ToArray();
            var start = 8 + length + offsets[0];
            tensors[name] = Enumerable.Range(0, (offsets[1] - offsets[0]) / 4).Select(i => BitConverter.ToSingle(file, start + i * 4)).ToArray();
        }
        return (metadata, tensors);
    }
}
