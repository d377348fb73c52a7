using System.CommandLine;
using SpectralDiffusion.Worker.FirstStage;

namespace SpectralDiffusion.Worker.Cli;

/// <summary><c>worker latent-cache list|delete</c>: the datasets a worker has encoded for latent jobs.</summary>
public static class LatentCacheCommand
{
    public static Command Create()
    {
        var root = new Option<string>("--root") { Description = "The cache folder (an agent's WORK_DIR/latent-cache, or runs/latent-cache for standalone runs).", Required = true };
        var list = new Command("list", "List cached datasets: id, images, size, dataset, first stage, transform.") { root };
        list.SetAction(parse => CliErrors.Run(() =>
        {
            foreach (var entry in LatentCache.List(parse.GetValue(root)!))
                Console.WriteLine($"{entry.Id}  {entry.Count,7} images  {entry.Bytes / 1e6,9:F1} MB  {entry.Dataset} | {entry.FirstStage} | {entry.Transform}");
        }));
        var id = new Argument<string>("id") { Description = "The id `list` shows." };
        var delete = new Command("delete", "Delete one cached dataset (the next latent job re-encodes it).") { root, id };
        delete.SetAction(parse => CliErrors.Run(() =>
        {
            if (!LatentCache.Delete(parse.GetValue(root)!, parse.GetValue(id)!))
                throw new ArgumentException($"no cached dataset '{parse.GetValue(id)}' under {parse.GetValue(root)} (see `worker latent-cache list`)");
            Console.WriteLine($"deleted {parse.GetValue(id)}");
        }));
        return new Command("latent-cache", "The latent cache of latent-diffusion jobs.") { list, delete };
    }
}
