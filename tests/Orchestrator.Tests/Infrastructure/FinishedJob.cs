using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests;

/// <summary>A job that two fake workers ran to success, leaving what users download: a checkpoint of step 20 in two real
/// shards (<see cref="Tensors"/> split by rank), its final model and a CSV file.</summary>
public sealed record FinishedJob(string JobId, byte[] Shard0, byte[] Shard1, byte[] Model, byte[] Csv)
{
    public static readonly Dictionary<string, float[]> Tensors = new()
    {
        ["model.a"] = [1f, 2f, 3f], ["model.b"] = [4f], ["ema.a"] = [5f, 6f], ["adam.m"] = [7f, 8f, 9f, 10f], ["adam.v"] = [-1f],
    };

    /// <summary>A two-rank job that wrote a checkpoint of step 20, its model and a CSV file, then succeeded.</summary>
    public static async Task<FinishedJob> RunAsync(OrchestratorServer server, string names)
    {
        await using var job = await TwoRankJob.StartAsync(server, names);
        var (shard0, shard1) = (TestShards.Write(Tensors, 0, 2, 20), TestShards.Write(Tensors, 1, 2, 20));
        await job.A.UploadShardAsync(job.StartA, 20, shard0);
        await job.B.UploadShardAsync(job.StartB, 20, shard1);
        var model = "final model weights"u8.ToArray();
        var csv = "step,loss\n10,0.9\n20,0.5\n"u8.ToArray();
        var modelReceipt = await job.A.UploadAsync(new ArtifactHeader
        {
            Kind = ArtifactKind.Model, JobId = job.Job.Id, Attempt = 1, Sha256 = FakeWorker.Sha256(model), Size = model.Length, Name = "model.safetensors",
        }, model);
        await job.A.UploadAsync(new ArtifactHeader
        {
            Kind = ArtifactKind.File, JobId = job.Job.Id, Attempt = 1, Sha256 = FakeWorker.Sha256(csv), Size = csv.Length, Name = "metrics.csv",
        }, csv);
        await job.B.CompleteAsync(job.StartB);
        await job.A.CompleteAsync(job.StartA, finalArtifact: modelReceipt.Artifact);
        return new FinishedJob(job.Job.Id, shard0, shard1, model, csv);
    }
}
