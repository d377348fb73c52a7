using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Artifacts;

/// <summary>
/// Merges the shards of one checkpoint into a single shard of world size 1, without loading a tensor. A shard is a
/// safetensors file (8-byte little-endian header length, a JSON header, the raw tensor data) whose metadata names its
/// <c>rank</c> and <c>world_size</c>; a checkpoint splits its tensors across the shards, and the worker merges any number
/// of shards back. So one file holding every tensor, with the same metadata and rank 0 of world size 1, is a checkpoint
/// the worker resumes from (<c>step-N/shard-0-of-1.safetensors</c>) like the original shards.
/// </summary>
public static class CheckpointConsolidation
{
    const string MetadataKey = "__metadata__";
    const long MaxHeaderBytes = 100 * 1024 * 1024;
    /// <summary>Metadata every shard of one checkpoint must agree on.</summary>
    static readonly string[] SharedKeys = ["step", "seed", "world_size", "tensor_count"];

    /// <summary>The consolidated content of the shard files, given in rank order; a shard that does not fit is a DATA_LOSS naming it.</summary>
    public static ArtifactContent Plan(IReadOnlyList<string> shardPaths)
    {
        var tensors = new SortedDictionary<string, (JsonNode Entry, FileRange Range)>(StringComparer.Ordinal);
        JsonObject? metadata = null;
        for (var rank = 0; rank < shardPaths.Count; rank++)
        {
            var (header, dataStart) = ReadHeader(shardPaths[rank]);
            var shardMetadata = header[MetadataKey] as JsonObject ?? throw Corrupt(shardPaths[rank], "it has no metadata");
            metadata ??= shardMetadata;
            foreach (var key in SharedKeys)
                if (Text(shardMetadata, key) != Text(metadata, key))
                    throw Corrupt(shardPaths[rank], $"its {key} '{Text(shardMetadata, key)}' differs from rank 0's '{Text(metadata, key)}'");
            if (Text(shardMetadata, "rank") != rank.ToString(CultureInfo.InvariantCulture))
                throw Corrupt(shardPaths[rank], $"it says rank '{Text(shardMetadata, "rank")}' where rank {rank} was expected");
            foreach (var (name, entry) in header)
            {
                if (name == MetadataKey) continue;
                var offsets = entry?["data_offsets"]?.AsArray().Select(o => o!.GetValue<long>()).ToArray();
                if (offsets is not [var begin, var end] || begin < 0 || end < begin)
                    throw Corrupt(shardPaths[rank], $"tensor '{name}' has no valid data_offsets");
                if (!tensors.TryAdd(name, (entry!, new FileRange(shardPaths[rank], dataStart + begin, end - begin))))
                    throw Corrupt(shardPaths[rank], $"tensor '{name}' is also in another shard");
            }
        }
        if (Text(metadata!, "world_size") != shardPaths.Count.ToString(CultureInfo.InvariantCulture))
            throw Corrupt(shardPaths[0], $"it says world size '{Text(metadata!, "world_size")}' but the checkpoint has {shardPaths.Count} shards");
        if (Text(metadata!, "tensor_count") != tensors.Count.ToString(CultureInfo.InvariantCulture))
            throw Corrupt(shardPaths[0], $"its shards hold {tensors.Count} tensors where they promise '{Text(metadata!, "tensor_count")}'");

        var merged = new JsonObject { [MetadataKey] = metadata!.DeepClone() };
        merged[MetadataKey]!["rank"] = "0";
        merged[MetadataKey]!["world_size"] = "1";
        long offset = 0;
        foreach (var (name, (entry, range)) in tensors)
        {
            var copy = entry.DeepClone();
            copy["data_offsets"] = new JsonArray(offset, offset + range.Length);
            merged[name] = copy;
            offset += range.Length;
        }
        var mergedHeader = Encoding.UTF8.GetBytes(merged.ToJsonString());
        var padded = (mergedHeader.Length + 7) / 8 * 8; // the format pads the header with spaces to 8-byte alignment
        var prefix = new byte[8 + padded];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded);
        mergedHeader.CopyTo(prefix, 8);
        prefix.AsSpan(8 + mergedHeader.Length).Fill((byte)' ');
        return new ArtifactContent(prefix, tensors.Values.Select(t => t.Range).ToList());
    }

    static (JsonObject Header, long DataStart) ReadHeader(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> length = stackalloc byte[8];
        if (file.ReadAtLeast(length, 8, throwOnEndOfStream: false) < 8) throw Corrupt(path, "it is shorter than a safetensors header");
        var headerBytes = BinaryPrimitives.ReadUInt64LittleEndian(length);
        if (headerBytes > MaxHeaderBytes || (long)headerBytes > file.Length - 8) throw Corrupt(path, $"its header length {headerBytes} does not fit the file");
        var header = new byte[headerBytes];
        file.ReadExactly(header);
        try
        {
            return (JsonNode.Parse(header) as JsonObject ?? throw Corrupt(path, "its header is not a JSON object"), 8 + (long)headerBytes);
        }
        catch (JsonException e) { throw Corrupt(path, $"its header is not JSON ({e.Message})"); }
    }

    static string? Text(JsonObject metadata, string key) => metadata[key] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    static OrchestratorException Corrupt(string path, string reason) =>
        new(OrchestratorErrorKind.DataLoss, $"checkpoint shard {Path.GetFileName(path)} cannot be consolidated: {reason}");
}
