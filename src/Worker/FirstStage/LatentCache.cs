using System.Security.Cryptography;
using System.Text.Json;
using Serilog;
using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.Models;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.FirstStage;

/// <summary>
/// A dataset encoded once per (dataset content hash, first-stage hash, transform), kept as sharded safetensors with a
/// manifest of shard hashes under <c>root/&lt;key id&gt;/</c>. What is cached is what the encoder computes before any
/// randomness: the KL posterior's moments (each step still samples its own latent) or the VQ pre-quantisation latent,
/// plus the class labels. A hit reads the shards and never runs the encoder; a shard that is missing or whose hash is
/// wrong is re-encoded, with a warning. Shards and manifest are written atomically, so ranks sharing a folder may race.
/// </summary>
public sealed class LatentCache(string root, ILogger log)
{
    public const int DefaultShardSize = 256;
    const string ManifestName = "manifest.json";

    /// <summary>What identifies a cached dataset; <see cref="Id"/> names its folder.</summary>
    public sealed record Key(string Dataset, string FirstStage, string Transform)
    {
        public string Id => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{Dataset}\n{FirstStage}\n{Transform}")))[..24];
    }

    sealed record Shard(string File, string Sha256, int Start, int Count);

    sealed record Manifest(string Dataset, string FirstStage, string Transform, int Count, List<Shard> Shards);

    /// <summary>Encoder calls made by this instance (a hit makes none).</summary>
    public int EncoderBatches { get; private set; }

    /// <summary>The cached moments (N, C, h, w) and labels (N) of <paramref name="dataset"/>, building what is missing with <paramref name="encode"/>.</summary>
    public (Tensor Moments, Tensor Labels) GetOrBuild(Key key, IImageDataset dataset, Func<Tensor, Tensor> encode, int shardSize = DefaultShardSize, int encodeBatch = 16)
    {
        var folder = Path.Combine(root, key.Id);
        Directory.CreateDirectory(folder);
        var manifestPath = Path.Combine(folder, ManifestName);
        var manifest = ReadManifest(manifestPath, key, dataset.Count);
        if (manifest is null)
        {
            log.Information("Latent cache miss for {Key}: encoding {Count} images into {Folder}", key.Id, dataset.Count, folder);
            var shards = Enumerable.Range(0, (dataset.Count + shardSize - 1) / shardSize)
                .Select(i => new Shard($"shard-{i:D5}.safetensors", "", i * shardSize, Math.Min(shardSize, dataset.Count - i * shardSize))).ToList();
            manifest = new Manifest(key.Dataset, key.FirstStage, key.Transform, dataset.Count, shards);
        }
        var moments = new List<Tensor>();
        var labels = new List<Tensor>();
        var rebuilt = false;
        for (var i = 0; i < manifest.Shards.Count; i++)
        {
            var shard = manifest.Shards[i];
            var path = Path.Combine(folder, shard.File);
            if (shard.Sha256.Length > 0 && File.Exists(path) && Hash(path) == shard.Sha256)
            {
                var tensors = SafetensorsFile.Read(path).Tensors;
                moments.Add(tensors["moments"]);
                labels.Add(tensors["labels"]);
                continue;
            }
            if (shard.Sha256.Length > 0)
                log.Warning("Latent cache shard {Shard} of {Key} is {Problem}; re-encoding it", path, key.Id, File.Exists(path) ? "corrupt (its hash does not match the manifest)" : "missing");
            var (shardMoments, shardLabels) = EncodeShard(dataset, shard, encode, encodeBatch);
            SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["moments"] = shardMoments, ["labels"] = shardLabels });
            manifest.Shards[i] = shard with { Sha256 = Hash(path) };
            moments.Add(shardMoments);
            labels.Add(shardLabels);
            rebuilt = true;
        }
        if (rebuilt) WriteManifest(manifestPath, manifest);
        else log.Information("Latent cache hit for {Key}: {Count} latents from {Folder}", key.Id, manifest.Count, folder);
        return (cat(moments.ToArray()), cat(labels.ToArray()));
    }

    (Tensor Moments, Tensor Labels) EncodeShard(IImageDataset dataset, Shard shard, Func<Tensor, Tensor> encode, int encodeBatch)
    {
        var moments = new List<Tensor>();
        var labels = new long[shard.Count];
        var shape = dataset.Shape;
        using var _ = no_grad();
        for (var done = 0; done < shard.Count; done += encodeBatch)
        {
            var n = Math.Min(encodeBatch, shard.Count - done);
            var pixels = new float[n * shape.Length];
            for (var j = 0; j < n; j++) labels[done + j] = dataset.Read(shard.Start + done + j, pixels.AsSpan(j * shape.Length, shape.Length));
            using var images = tensor(pixels, [n, shape.Channels, shape.Height, shape.Width]);
            moments.Add(encode(images).detach());
            EncoderBatches++;
        }
        return (cat(moments.ToArray()), tensor(labels));
    }

    /// <summary>Every cached dataset under <paramref name="root"/>: (id, dataset, first stage, transform, count, bytes).</summary>
    public static IEnumerable<(string Id, string Dataset, string FirstStage, string Transform, int Count, long Bytes)> List(string root)
    {
        if (!Directory.Exists(root)) yield break;
        foreach (var folder in Directory.EnumerateDirectories(root).Order())
        {
            var path = Path.Combine(folder, ManifestName);
            if (!File.Exists(path)) continue;
            var manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(path));
            if (manifest is null) continue;
            var bytes = Directory.EnumerateFiles(folder).Sum(f => new FileInfo(f).Length);
            yield return (Path.GetFileName(folder), manifest.Dataset, manifest.FirstStage, manifest.Transform, manifest.Count, bytes);
        }
    }

    /// <summary>Deletes one cached dataset; false when there is none of that id.</summary>
    public static bool Delete(string root, string id)
    {
        var folder = Path.Combine(root, id);
        if (id.Contains('/') || id.Contains("..") || !File.Exists(Path.Combine(folder, ManifestName))) return false;
        Directory.Delete(folder, recursive: true);
        return true;
    }

    /// <summary>The SHA-256 of a file, lower-case hex.</summary>
    public static string Hash(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    Manifest? ReadManifest(string path, Key key, int count)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(path));
            if (manifest is not null && manifest.Dataset == key.Dataset && manifest.FirstStage == key.FirstStage && manifest.Transform == key.Transform && manifest.Count == count)
                return manifest;
            log.Warning("Latent cache manifest {Path} describes another dataset; rebuilding it", path);
        }
        catch (JsonException e)
        {
            log.Warning("Latent cache manifest {Path} is unreadable ({Reason}); rebuilding it", path, e.Message);
        }
        return null;
    }

    static void WriteManifest(string path, Manifest manifest)
    {
        var temporary = path + $".{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));
        File.Move(temporary, path, overwrite: true);
    }
}
