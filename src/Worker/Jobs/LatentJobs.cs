using System.Security.Cryptography;
using System.Text;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Worker.Data;
using SpectralDiffusion.Worker.FirstStage;
using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Training;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>Where a latent job's training input differs from a pixel job's: the image batches pass through the first stage,
/// or come from the latent cache.</summary>
public static class LatentJobs
{
    /// <summary>Overrides where the latent cache lives (default: <c>latent-cache</c> beside the jobs' folders).</summary>
    public const string CacheRootVariable = "SD_LATENT_CACHE";

    /// <summary>Pixel batches as they are; latent jobs from the cache (no flips, no captions) or encoded every step (with random
    /// flips, which a cache of unflipped latents cannot give, or captions, which the cache does not hold).</summary>
    public static ITrainingBatches Batches(JobSpec spec, IImageDataset dataset, LatentSpace? latentSpace, TrainerOptions options, long startStep, IJobHost host, UNetConfig model)
    {
        if (latentSpace is not null && !spec.Dataset.HorizontalFlip && !model.IsTextConditional)
        {
            var cache = new LatentCache(CacheRoot(host.WorkDirectory), host.Log);
            var key = new LatentCache.Key(DatasetIdentity(spec.Dataset, dataset), FirstStageIdentity(spec.FirstStage), $"{dataset.Shape.Height}px resize+centre-crop");
            var (moments, labels) = cache.GetOrBuild(key, dataset, latentSpace.Autoencoder.Moments);
            return new CachedLatentBatches(moments, labels, latentSpace, options.BatchSize, options.Seed, options.WorldSize, options.Rank, startStep, model.NumClasses is not null);
        }
        var images = new LoaderBatches(dataset, options.BatchSize, options.Seed, options.WorldSize, options.Rank, startStep, spec.Dataset.HorizontalFlip, model);
        if (latentSpace is null) return images;
        host.Log.Information(model.IsTextConditional
            ? "captioned dataset: latents are encoded every step (the latent cache holds images and class labels only)"
            : "dataset.horizontal_flip is on: latents are encoded every step (the latent cache holds unflipped images only)");
        return new LatentBatches(images, latentSpace, options.Seed, options.Rank, options.WorldSize, startStep);
    }

    /// <summary>The cache folder: <see cref="CacheRootVariable"/>, else <c>latent-cache</c> beside the run folders (an agent's
    /// <c>work-dir/jobs/&lt;job&gt;/attempt-N/rank-R</c> or a standalone <c>runs/&lt;name&gt;</c>).</summary>
    public static string CacheRoot(string workDirectory)
    {
        if (Environment.GetEnvironmentVariable(CacheRootVariable) is { Length: > 0 } configured) return configured;
        var folder = new DirectoryInfo(Path.GetFullPath(workDirectory));
        var base_ = folder.Name.StartsWith("rank-", StringComparison.Ordinal) && folder.Parent?.Parent?.Parent?.Parent is { } agentRoot ? agentRoot : folder.Parent ?? folder;
        return Path.Combine(base_.FullName, "latent-cache");
    }

    /// <summary>What the images are: the procedural set's parameters, or a hash of every file of an image folder (names and bytes).</summary>
    public static string DatasetIdentity(DatasetSpec spec, IImageDataset dataset)
    {
        if (spec.ImageFolder is null) return $"procedural seed={spec.Procedural.Seed} count={spec.Procedural.Count} classes={dataset.ClassNames.Count}";
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var root = Path.GetFullPath(spec.ImageFolder.Path);
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(root, file) + "\n"));
            hash.AppendData(Convert.FromHexString(LatentCache.Hash(file)));
        }
        return $"image-folder sha256={Convert.ToHexStringLower(hash.GetHashAndReset())} count={dataset.Count}";
    }

    static string FirstStageIdentity(FirstStageSpec spec) => $"{spec.Config} sha256={LatentCache.Hash(spec.Checkpoint)}";
}
