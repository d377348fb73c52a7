using SpectralDiffusion.Worker.Jobs;
using SpectralDiffusion.Worker.Tests.TestSupport;
using SpectralDiffusion.Worker.Torch;
using SpectralDiffusion.Worker.Training;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Tests.Jobs;

public class LocalCheckpointsTests
{
    public LocalCheckpointsTests() => TorchRuntime.EnsureLoaded();

    static TrainingState State(long step) => new()
    {
        Step = step, Seed = 1, EmaUpdates = step,
        Tensors = new Dictionary<string, Tensor> { ["model.w"] = full(new long[] { 4 }, (float)step), ["ema.w"] = full(new long[] { 4 }, (float)step) },
    };

    static string Write(TemporaryFolder folder, TrainingState state, int world = 2)
    {
        var step = folder.Combine("checkpoints", $"step-{state.Step:D8}");
        Directory.CreateDirectory(step);
        for (var rank = 0; rank < world; rank++) state.WriteShard(Path.Combine(step, $"shard-{rank}-of-{world}.safetensors"), rank, world);
        return step;
    }

    [Fact]
    public void NewestReadable_NewestTruncated_ResumesFromThePreviousAndSaysWhy()
    {
        using var folder = new TemporaryFolder();
        Write(folder, State(20));
        var newest = Write(folder, State(40));
        var shard = Path.Combine(newest, "shard-1-of-2.safetensors");
        File.WriteAllBytes(shard, File.ReadAllBytes(shard)[..40]);
        var skipped = new List<(string Folder, string Reason)>();

        var found = LocalCheckpoints.NewestReadable(folder.Combine("checkpoints"), (f, r) => skipped.Add((f, r)));

        Assert.NotNull(found);
        Assert.Equal(20, found.Value.State.Step);
        var (skippedFolder, reason) = Assert.Single(skipped);
        Assert.Equal(newest, skippedFolder);
        Assert.Contains("shard-1-of-2", reason);
    }

    [Fact]
    public void NewestReadable_NewestHasNaNEma_ResumesFromThePrevious()
    {
        using var folder = new TemporaryFolder();
        Write(folder, State(20));
        var poisoned = State(40);
        poisoned.Tensors["ema.w"][0] = float.NaN;
        Write(folder, poisoned);
        var reasons = new List<string>();

        var found = LocalCheckpoints.NewestReadable(folder.Combine("checkpoints"), (_, r) => reasons.Add(r));

        Assert.Equal(20, found!.Value.State.Step);
        Assert.Contains("ema.w", Assert.Single(reasons));
    }

    [Fact]
    public void NewestReadable_IncompleteNewestAndNoOther_Null()
    {
        using var folder = new TemporaryFolder();
        var step = Write(folder, State(40));
        File.Delete(Path.Combine(step, "shard-0-of-2.safetensors"));

        Assert.Null(LocalCheckpoints.NewestReadable(folder.Combine("checkpoints"), (_, _) => { }));
    }
}
