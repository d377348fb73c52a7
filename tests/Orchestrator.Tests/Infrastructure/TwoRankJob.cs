using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Tests;

/// <summary>Two fake workers running ranks 0 (<see cref="A"/>) and 1 (<see cref="B"/>) of one freshly submitted job; disposing stops both.</summary>
public sealed class TwoRankJob : IAsyncDisposable
{
    public required FakeWorker A { get; init; }
    public required FakeWorker B { get; init; }
    public required Job Job { get; init; }
    public required AssignmentStart StartA { get; init; }
    public required AssignmentStart StartB { get; init; }

    /// <summary>Registers "<paramref name="names"/>-a" then "-b" (so a runs rank 0), submits <paramref name="spec"/> and waits for both start orders.</summary>
    public static async Task<TwoRankJob> StartAsync(OrchestratorServer server, string names, JobSpec? spec = null)
    {
        var a = await FakeWorker.StartAsync(server.AsWorker, names + "-a");
        var b = await FakeWorker.StartAsync(server.AsWorker, names + "-b");
        var job = await new Jobs.JobsClient(server.AsSubmitter).SubmitAsync(new SubmitJobRequest { Spec = spec ?? Specs.Train(worldSize: 2) });
        return new TwoRankJob { A = a, B = b, Job = job, StartA = await a.NextStartAsync(), StartB = await b.NextStartAsync() };
    }

    public async ValueTask DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
    }
}
