using System.Text.RegularExpressions;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Training;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>Checkpoints in a local folder: <c>step-NNNNNNNN/shard-R-of-W.safetensors</c>; a step is complete when all W shards exist.</summary>
public static partial class LocalCheckpoints
{
    [GeneratedRegex(@"^shard-(\d+)-of-(\d+)\.safetensors$")]
    private static partial Regex ShardName();

    /// <summary>The shard paths of every complete checkpoint, newest first.</summary>
    public static IEnumerable<IReadOnlyList<string>> CompleteNewestFirst(string folder)
    {
        if (!Directory.Exists(folder)) yield break;
        foreach (var step in Directory.GetDirectories(folder, "step-*").OrderByDescending(d => d, StringComparer.Ordinal))
        {
            var shards = Directory.GetFiles(step, "shard-*.safetensors")
                .Select(p => (Path: p, Match: ShardName().Match(Path.GetFileName(p)))).Where(s => s.Match.Success)
                .Select(s => (s.Path, Rank: int.Parse(s.Match.Groups[1].Value), World: int.Parse(s.Match.Groups[2].Value))).ToList();
            foreach (var world in shards.Select(s => s.World).Distinct())
            {
                var ranks = shards.Where(s => s.World == world).ToList();
                if (ranks.Select(r => r.Rank).Distinct().Count() == world)
                {
                    yield return ranks.OrderBy(r => r.Rank).Select(r => r.Path).ToList();
                    break;
                }
            }
        }
    }

    /// <summary>
    /// The newest complete checkpoint that reads back whole (every shard parses, agrees and holds finite values), or
    /// null when there is none. A damaged newer checkpoint is passed over, not fatal: <paramref name="skipped"/> hears
    /// its folder and the reason, and the run resumes from the one before it.
    /// </summary>
    public static (TrainingState State, string Folder)? NewestReadable(string folder, Action<string, string> skipped)
    {
        foreach (var shards in CompleteNewestFirst(folder))
        {
            var step = Path.GetDirectoryName(shards[0])!;
            try
            {
                return (TrainingState.ReadShards(shards), step);
            }
            catch (Exception e) when (e is CheckpointFormatException or InvalidDataException or IOException)
            {
                skipped(step, e.Message);
            }
        }
        return null;
    }
}
