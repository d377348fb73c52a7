using SpectralDiffusion.Worker.Distributed;

namespace SpectralDiffusion.Worker.Tests.Distributed;

/// <summary>W ranks of a <see cref="TcpRingCollective"/> in this process, one thread each, over real loopback sockets and a FileRendezvous in a temp dir.</summary>
sealed class RingGroup : IDisposable
{
    readonly string directory = Path.Combine(Path.GetTempPath(), $"sd-ring-{Guid.NewGuid():N}");

    public RingGroup(int worldSize, TimeSpan? timeout = null)
    {
        Rendezvous = new FileRendezvous(directory);
        var options = new TcpRingOptions { Timeout = timeout ?? TimeSpan.FromSeconds(20) };
        var connecting = Enumerable.Range(0, worldSize)
            .Select(rank => Task.Run(() => TcpRingCollective.ConnectAsync(rank, worldSize, Rendezvous, "run-1/attempt-1", options)))
            .ToArray();
        Ranks = Task.WhenAll(connecting).GetAwaiter().GetResult();
    }

    public FileRendezvous Rendezvous { get; }
    public TcpRingCollective[] Ranks { get; }

    /// <summary>Runs <paramref name="body"/> for every rank on its own thread and returns each rank's result or exception.</summary>
    public Task<T>[] RunEach<T>(Func<TcpRingCollective, T> body) =>
        Ranks.Select(rank => Task.Factory.StartNew(() => body(rank), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

    /// <summary>Runs every rank and waits for all of them (a hang becomes a TimeoutException after <paramref name="limit"/>).</summary>
    public T[] Run<T>(Func<TcpRingCollective, T> body, TimeSpan? limit = null) =>
        Task.WhenAll(RunEach(body)).WaitAsync(limit ?? TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();

    public void Dispose()
    {
        foreach (var rank in Ranks) rank.Dispose();
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
    }
}
