using System.Threading.Channels;
using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Persistence;

/// <summary>
/// Group commit for submits: inserts that arrive while one is being written wait and are written together, in one
/// statement (<see cref="JobRepository.InsertManyAsync"/>), so that many concurrent clients cost one round trip per
/// batch, not per job. Each caller gets its own job's view once the statement that stores it has committed; a batch
/// that fails fails every caller in it, and none of its jobs is stored.
/// </summary>
public sealed class JobInsertBatcher(Database database)
{
    public const int MaxBatch = 256;

    readonly Channel<Pending> queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    int writing;

    sealed record Pending(Job Job, TaskCompletionSource<JobSnapshot> Stored);

    public Task<JobSnapshot> InsertAsync(Job job, CancellationToken cancellation)
    {
        var pending = new Pending(job, new TaskCompletionSource<JobSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously));
        queue.Writer.TryWrite(pending);
        if (Interlocked.CompareExchange(ref writing, 1, 0) == 0) _ = Task.Run(WriteAsync, CancellationToken.None);
        return pending.Stored.Task.WaitAsync(cancellation);
    }

    /// <summary>Writes batches until the queue is empty; one writer at a time.</summary>
    async Task WriteAsync()
    {
        while (true)
        {
            var batch = new List<Pending>();
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var pending)) batch.Add(pending);
            if (batch.Count == 0)
            {
                Volatile.Write(ref writing, 0);
                // An insert queued between the last read and the flag's reset found the writer busy: take it over.
                if (!queue.Reader.TryPeek(out _) || Interlocked.CompareExchange(ref writing, 1, 0) != 0) return;
                continue;
            }
            try
            {
                var views = await database.StatementAsync((connection, token) => JobRepository.InsertManyAsync(connection,
                    batch.Select(p => (p.Job, (IReadOnlyList<Guid>)[])).ToList(), token), CancellationToken.None);
                for (var i = 0; i < batch.Count; i++) batch[i].Stored.TrySetResult(views[i]);
            }
            catch (Exception e)
            {
                foreach (var pending in batch) pending.Stored.TrySetException(e);
            }
        }
    }
}
