using System.Text.RegularExpressions;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>Checkpoints in a local folder: <c>step-NNNNNNNN/shard-R-of-W.safetensors</c>; a step is complete when all W shards exist.</summary>
public static partial class LocalCheckpoints
{
    [GeneratedRegex(@"^shard-(\d+)-of-(\d+)\.safetensors$")]
    private static partial Regex ShardName();

    /// <summary>The shard paths of the newest complete checkpoint, or null when there is none.</summary>
    public static IReadOnlyList<string>? NewestComplete(string folder)
    {
        if (!Directory.Exists(folder)) return null;
        foreach (var step in Directory.GetDirectories(folder, "step-*").OrderByDescending(d => d, StringComparer.Ordinal))
        {
            var shards = Directory.GetFiles(step, "shard-*.safetensors")
                .Select(p => (Path: p, Match: ShardName().Match(Path.GetFileName(p)))).Where(s => s.Match.Success)
                .Select(s => (s.Path, Rank: int.Parse(s.Match.Groups[1].Value), World: int.Parse(s.Match.Groups[2].Value))).ToList();
            foreach (var world in shards.Select(s => s.World).Distinct())
            {
                var ranks = shards.Where(s => s.World == world).ToList();
                if (ranks.Select(r => r.Rank).Distinct().Count() == world) return ranks.OrderBy(r => r.Rank).Select(r => r.Path).ToList();
            }
        }
        return null;
    }
}
