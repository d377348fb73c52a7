using System.Runtime.ExceptionServices;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// A dedicated thread that sends one buffer to the next rank while the calling thread receives from the previous one:
/// every ring step sends and receives at the same time, so neither side can block the other on full socket buffers.
/// </summary>
sealed class RingSender : IDisposable
{
    readonly RingLink link;
    readonly Thread thread;
    readonly SemaphoreSlim started = new(0);
    readonly SemaphoreSlim finished = new(0);
    nint data;
    long bytes;
    string operation = "";
    Exception? failure;
    bool inFlight;
    volatile bool stopping;

    public RingSender(RingLink link, int rank)
    {
        this.link = link;
        thread = new Thread(Loop) { IsBackground = true, Name = $"ring-sender rank {rank}" };
        thread.Start();
    }

    /// <summary>Starts sending <paramref name="count"/> bytes at <paramref name="pointer"/>; the memory must stay valid until <see cref="End"/>.</summary>
    public void Begin(nint pointer, long count, string description)
    {
        (data, bytes, operation, failure, inFlight) = (pointer, count, description, null, true);
        started.Release();
    }

    /// <summary>Waits for the send started by <see cref="Begin"/>, if any (bounded by the socket timeout), and rethrows its failure.</summary>
    public void End()
    {
        if (!inFlight) return;
        finished.Wait();
        inFlight = false;
        if (failure is { } error) ExceptionDispatchInfo.Throw(error);
    }

    void Loop()
    {
        while (true)
        {
            started.Wait();
            if (stopping) return;
            try
            {
                link.Send(data, bytes, operation);
            }
            catch (Exception e)
            {
                failure = e;
            }
            finished.Release();
        }
    }

    public void Dispose()
    {
        stopping = true;
        started.Release();
        thread.Join();
        started.Dispose();
        finished.Dispose();
    }
}
