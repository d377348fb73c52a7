using System.Globalization;
using SpectralDiffusion.Worker.Models;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Training;

/// <summary>
/// Everything needed to resume a run bit-exactly, as named tensors plus a few scalars: the model (and aligners),
/// the EMA shadows, the AdamW moments and step counts, the optimiser step and the EMA counter. Randomness is a
/// pure function of (seed, step) — noise, timesteps and the data order are drawn from generators seeded per step —
/// so the step and seed are the complete state of every random generator.
/// A state is split into shards by tensor (tensor i of the sorted names goes to rank i mod W); any world size can
/// merge the shards of any other.
/// </summary>
public sealed class TrainingState
{
    public const string Format = "spectral-diffusion-training-shard/1";

    public required long Step { get; init; }
    public required long Seed { get; init; }
    public long EmaUpdates { get; init; }
    /// <summary>Free-form descriptive values (preset, objective) that must agree across shards.</summary>
    public IReadOnlyDictionary<string, string> Info { get; init; } = new Dictionary<string, string>();
    public required IReadOnlyDictionary<string, Tensor> Tensors { get; init; }

    /// <summary>The shard of <paramref name="rank"/> among <paramref name="worldSize"/>, written to <paramref name="path"/>.</summary>
    public void WriteShard(string path, int rank, int worldSize)
    {
        if (worldSize < 1 || rank < 0 || rank >= worldSize)
            throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} is not in [0, {worldSize})");
        var names = Tensors.Keys.OrderBy(n => n, StringComparer.Ordinal).ToList();
        var mine = names.Where((_, i) => i % worldSize == rank).Select(n => KeyValuePair.Create(n, Tensors[n]));
        var metadata = new Dictionary<string, string>(Info)
        {
            ["format"] = Format,
            ["step"] = Step.ToString(CultureInfo.InvariantCulture),
            ["seed"] = Seed.ToString(CultureInfo.InvariantCulture),
            ["ema_updates"] = EmaUpdates.ToString(CultureInfo.InvariantCulture),
            ["rank"] = rank.ToString(CultureInfo.InvariantCulture),
            ["world_size"] = worldSize.ToString(CultureInfo.InvariantCulture),
            ["tensor_count"] = names.Count.ToString(CultureInfo.InvariantCulture),
        };
        SafetensorsFile.Write(path, mine.ToDictionary(), metadata);
    }

    /// <summary>Merges the shard files of one checkpoint (in any order); every rank must be present and agree.</summary>
    public static TrainingState ReadShards(IReadOnlyList<string> paths)
    {
        if (paths.Count == 0) throw new ArgumentException("a checkpoint needs at least one shard", nameof(paths));
        var tensors = new Dictionary<string, Tensor>();
        var ranks = new HashSet<int>();
        Dictionary<string, string>? first = null;
        string? firstPath = null;
        foreach (var path in paths)
        {
            var (shardTensors, metadata) = SafetensorsFile.Read(path);
            if (!metadata.TryGetValue("format", out var format) || format != Format)
                throw new InvalidDataException($"{path}: not a training checkpoint shard (format '{format ?? "missing"}', expected '{Format}')");
            if (first is null) { first = metadata; firstPath = path; }
            foreach (var key in new[] { "step", "seed", "world_size", "tensor_count" })
                if (metadata[key] != first[key])
                    throw new InvalidDataException($"{path}: {key} {metadata[key]} differs from {firstPath} ({first[key]}); shards of different checkpoints were mixed");
            var rank = int.Parse(metadata["rank"], CultureInfo.InvariantCulture);
            if (!ranks.Add(rank)) throw new InvalidDataException($"{path}: rank {rank} appears twice");
            foreach (var (name, tensor) in shardTensors)
            {
                RequireFinite(path, name, tensor);
                tensors[name] = tensor;
            }
        }
        var worldSize = int.Parse(first!["world_size"], CultureInfo.InvariantCulture);
        var missing = Enumerable.Range(0, worldSize).Where(r => !ranks.Contains(r)).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"checkpoint is incomplete: shards of rank(s) {string.Join(", ", missing)} are missing");
        var expected = long.Parse(first["tensor_count"], CultureInfo.InvariantCulture);
        if (tensors.Count != expected) throw new InvalidDataException($"checkpoint holds {tensors.Count} tensors, its shards promise {expected}");

        var reserved = new HashSet<string> { "format", "step", "seed", "ema_updates", "rank", "world_size", "tensor_count" };
        return new TrainingState
        {
            Step = long.Parse(first["step"], CultureInfo.InvariantCulture),
            Seed = long.Parse(first["seed"], CultureInfo.InvariantCulture),
            EmaUpdates = long.Parse(first["ema_updates"], CultureInfo.InvariantCulture),
            Info = first.Where(m => !reserved.Contains(m.Key)).ToDictionary(m => m.Key, m => m.Value),
            Tensors = tensors,
        };
    }

    /// <summary>A checkpoint of a run that never stores a NaN (the trainer stops before one reaches the weights) holds
    /// none either: a non-finite value means the file was damaged or written by something else.</summary>
    static void RequireFinite(string path, string name, Tensor tensor)
    {
        var count = FiniteWeights.NonFiniteCount(tensor);
        if (count > 0)
            throw new CheckpointFormatException(path, $"tensor '{name}' holds {count} NaN or infinite value(s) of {tensor.numel()}; the checkpoint is corrupt");
    }
}
