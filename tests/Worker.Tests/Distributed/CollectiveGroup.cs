using SpectralDiffusion.Worker.Distributed;

namespace SpectralDiffusion.Worker.Tests.Distributed;

/// <summary>W ranks of a collective in this process, one thread each, meeting through a FileRendezvous in a temp dir.</summary>
abstract class CollectiveGroup<T> : IDisposable where T : ICollective
{
    readonly string directory = Path.Combine(Path.GetTempPath(), $"sd-group-{Guid.NewGuid():N}");

    protected CollectiveGroup(int worldSize, Func<int, FileRendezvous, Task<T>> connect)
    {
        Rendezvous = new FileRendezvous(directory);
        var connecting = Enumerable.Range(0, worldSize).Select(rank => Task.Run(() => connect(rank, Rendezvous))).ToArray();
        Ranks = Task.WhenAll(connecting).GetAwaiter().GetResult();
    }

    public FileRendezvous Rendezvous { get; }
    public T[] Ranks { get; }

    /// <summary>Runs <paramref name="body"/> for every rank on its own thread and returns each rank's result or exception.</summary>
    public Task<TResult>[] RunEach<TResult>(Func<T, TResult> body) =>
        Ranks.Select(rank => Task.Factory.StartNew(() => body(rank), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

    /// <summary>Runs every rank and waits for all of them (a hang becomes a TimeoutException after <paramref name="limit"/>).</summary>
    public TResult[] Run<TResult>(Func<T, TResult> body, TimeSpan? limit = null) =>
        Task.WhenAll(RunEach(body)).WaitAsync(limit ?? TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();

    public void Dispose()
    {
        foreach (var rank in Ranks) rank.Dispose();
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
    }
}
